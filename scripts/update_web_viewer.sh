#!/usr/bin/env bash
# Re-fetch the web viewer library that `splat-web` pages ship with (gsplat.js, MIT) from the npm registry.
#   scripts/update_web_viewer.sh            # the pinned version
#   scripts/update_web_viewer.sh 1.2.9      # another version (check the page still passes: pytest -m browser)
# Copies the self-contained ES module (its workers and WebAssembly are inlined), its licence and package.json
# into splatweb/assets/vendor/gsplat/, and records the tarball's integrity hash in VERSION.
set -euo pipefail
version="${1:-1.2.9}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/splatweb/assets/vendor/gsplat"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "gsplat@$version" >/dev/null && tar xzf "gsplat-$version.tgz")
for f in package/dist/index.es.js package/LICENSE package/package.json; do
  test -s "$work/$f" || { echo "error: gsplat@$version has no $f; the page expects dist/index.es.js" >&2; exit 1; }
done
mkdir -p "$dest"
cp "$work/package/dist/index.es.js" "$work/package/LICENSE" "$work/package/package.json" "$dest/"
sha="$(sha256sum "$work/gsplat-$version.tgz" | cut -d' ' -f1)"
printf 'gsplat@%s\nnpm tarball sha256 %s\n' "$version" "$sha" >"$dest/VERSION"
echo "vendored gsplat@$version into $dest ($(wc -c <"$dest/index.es.js") bytes)"
