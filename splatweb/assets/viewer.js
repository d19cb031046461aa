// Plays the Gaussian asset described by manifest.json with gsplat.js (vendor/gsplat, MIT).
// Each time of a 4D asset is its own .splat file; the slider swaps which one the scene holds.
// window.splatPage exposes the page's state (load times, current time, camera) for scripts and tests.
import * as SPLAT from "./vendor/gsplat/index.es.js";

const $ = (id) => document.getElementById(id);
const started = performance.now();
const state = {
  ready: false, allLoaded: false, error: null, frames: 0, shownAtFrame: 0, timeIndex: 0,
  firstFrameMs: null, allLoadedMs: null, bytes: 0,
};
window.splatPage = state;

function fail(message) {
  state.error = message;
  $("status").textContent = "error: " + message;
  console.error(message);
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  state.bytes += buffer.byteLength;
  return buffer;
}

async function main() {
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes("manifest.json")));
  state.manifest = manifest;
  const frames = manifest.frames;
  const is4d = frames.length > 1;
  document.title = manifest.name;
  $("name").textContent = manifest.name;

  const canvas = $("canvas");
  const renderer = new SPLAT.WebGLRenderer(canvas, []); // no fade-in pass: every frame shows the asset as stored
  renderer.backgroundColor = new SPLAT.Color32(...manifest.background, 255);
  const scene = new SPLAT.Scene();
  const camera = new SPLAT.Camera();
  const view = manifest.view;
  const fitFocal = () => {
    const focal = canvas.clientHeight / 2 / Math.tan((view.fov_deg * Math.PI) / 360);
    camera.data.fx = focal;
    camera.data.fy = focal;
  };
  fitFocal();
  const controls = new SPLAT.OrbitControls(
    camera, canvas, view.alpha, view.beta, view.radius, false, new SPLAT.Vector3(...view.target),
  );
  controls.minZoom = view.radius * 0.05;
  controls.maxZoom = view.radius * 20;
  window.addEventListener("resize", () => {
    fitFocal();
    renderer.resize();
    renderer.renderProgram.dispose(); // the projection's focal length is set when the program starts
  });

  const splats = new Array(frames.length).fill(null);
  let current = null;

  // Depth order. gsplat.js 1.2.9's sort worker returns splats unsorted below 65,536 of them (its counting-sort
  // buffers are sized by the splat count, not by its 65,536 buckets), so the page sorts here instead, front to back
  // (the blending composites each splat under those before it), whenever the camera or the shown time changes.
  const program = renderer.renderProgram;
  let order = new Uint32Array(0);
  let sortedSplat = null;
  let sortedView = "";
  Object.defineProperty(program, "_depthIndex", { get: () => order, set: () => {}, configurable: true });
  const BUCKETS = 65536;
  const counts = new Uint32Array(BUCKETS);
  const sortSplats = () => {
    const v = camera.data.viewMatrix.buffer; // column-major world → camera
    const key = Array.prototype.join.call(v, ",");
    if (current === sortedSplat && key === sortedView) return;
    const r = SPLAT.Matrix3.RotationFromQuaternion(current.rotation).buffer; // object → world, row-major
    const t = current.position;
    const w = [0, 1, 2].map((j) => v[2] * r[j] + v[6] * r[3 + j] + v[10] * r[6 + j]);
    const w0 = v[2] * t.x + v[6] * t.y + v[10] * t.z + v[14];
    const n = current.data.vertexCount;
    const p = current.data.positions;
    const depth = new Float64Array(n);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const d = w[0] * p[3 * i] + w[1] * p[3 * i + 1] + w[2] * p[3 * i + 2] + w0;
      depth[i] = d;
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    const scale = hi > lo ? (BUCKETS - 1) / (hi - lo) : 0;
    const bucket = new Uint32Array(n);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      bucket[i] = Math.min(BUCKETS - 1, Math.floor((depth[i] - lo) * scale));
      counts[bucket[i]] += 1;
    }
    for (let b = 0, start = 0; b < BUCKETS; b++) {
      const c = counts[b];
      counts[b] = start;
      start += c;
    }
    const next = new Uint32Array(n);
    for (let i = 0; i < n; i++) next[counts[bucket[i]]++] = i;
    order = next;
    sortedSplat = current;
    sortedView = key;
  };
  const load = async (i) => {
    const data = SPLAT.SplatData.Deserialize(new Uint8Array(await fetchBytes(frames[i].file)));
    const splat = new SPLAT.Splat(data);
    splat.rotation = new SPLAT.Quaternion(...manifest.view_rotation_xyzw); // the files' up axis onto the view's −y
    splats[i] = splat;
    state.loaded = splats.filter(Boolean).length;
    if (is4d) $("status").textContent = `loaded ${state.loaded} / ${frames.length} times`;
    return splat;
  };
  const show = (i) => {
    const next = splats[i];
    if (!next || next === current) return;
    if (current) scene.removeObject(current);
    scene.addObject(next);
    current = next;
    state.timeIndex = i;
    state.shownAtFrame = state.frames;
    $("count").textContent = frames[i].count.toLocaleString("en");
    $("time").textContent = `${frames[i].time.toFixed(3)} (${i + 1} / ${frames.length})`;
    $("slider").value = String(i);
  };
  state.setTime = show;
  state.renderer = renderer;
  state.sorted = () => current !== null && sortedSplat === current;
  state.camera = () => ({
    view: Array.from(camera.data.viewMatrix.buffer), // column-major world → camera (x right, y down, z ahead)
    fx: camera.data.fx, fy: camera.data.fy, width: canvas.width, height: canvas.height,
  });

  const frameLoop = () => {
    controls.update();
    camera.update();
    sortSplats();
    renderer.render(scene, camera);
    state.frames += 1;
    requestAnimationFrame(frameLoop);
  };

  await load(0);
  show(0);
  requestAnimationFrame(frameLoop);
  state.ready = true;
  state.firstFrameMs = performance.now() - started;
  if (!is4d) $("status").textContent = "";

  if (is4d) {
    $("timeinfo").hidden = false;
    $("timebar").hidden = false;
    $("slider").max = String(frames.length - 1);
    let timer = null;
    const setPlaying = (playing) => {
      if (timer !== null) clearInterval(timer);
      timer = playing ? setInterval(() => show((state.timeIndex + 1) % frames.length), 1000 / manifest.fps) : null;
      state.playing = playing;
      $("play").textContent = playing ? "❚❚ pause" : "▶ play";
    };
    state.setPlaying = setPlaying;
    $("play").addEventListener("click", () => setPlaying(timer === null));
    $("slider").addEventListener("input", () => {
      setPlaying(false);
      show(Number($("slider").value));
    });
    for (let i = 1; i < frames.length; i++) await load(i); // in order, so playback can start from the front
    $("play").disabled = false;
    $("status").textContent = "";
    if (new URLSearchParams(location.search).get("autoplay") !== "0") setPlaying(true);
  }
  state.allLoaded = true;
  state.allLoadedMs = performance.now() - started;
}

main().catch((error) => fail(error && error.message ? error.message : String(error)));
