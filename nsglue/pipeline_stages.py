"""Stage bookkeeping of the one-command pipelines: which stages are finished, which must run again.

A stage is finished when its completion record ``<out>/.stages/<name>.json`` exists, parses, names the same inputs
(a digest of the stage's options, its input files and the records of the stages before it) and every output it
lists still exists. The record is written last and atomically, so a stage that crashed has none and runs again; a
stage whose inputs changed runs again, and so does every stage after it (their inputs include its record).
Nothing here runs a tool: the stages are callables the command supplies.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from splatcore.atomic import atomic_file

RECORDS_DIR = ".stages"
SUMMARY_NAME = "summary.json"


@dataclass
class Stage:
    """One step of a pipeline."""

    name: str
    """Short name, also the record's file name."""
    description: str
    """What it does, printed when it starts."""
    inputs: dict[str, Any]
    """JSON-serialisable options and input fingerprints; any change makes the stage run again."""
    run: Callable[[], dict[str, Path]]
    """Does the work; returns its outputs by name (files or folders that must exist afterwards)."""


@dataclass
class StageResult:
    """What happened to a stage in this run."""

    name: str
    status: str
    """``ran`` or ``skipped`` (finished earlier with the same inputs)."""
    seconds: float
    """Duration of this run's work (the earlier run's for a skipped stage)."""
    outputs: dict[str, str] = field(default_factory=dict)


def digest(value: Any) -> str:
    """SHA-256 of a JSON-serialisable value (keys sorted), hex."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's file names and bytes (natural content identity), hex."""
    path = Path(path)
    sha = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        sha.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as handle:
            while block := handle.read(1 << 20):
                sha.update(block)
    return sha.hexdigest()


def record_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / RECORDS_DIR / f"{name}.json"


def read_record(out_dir: Path, name: str) -> Optional[dict]:
    """A stage's completion record, or None when missing or unreadable (a corrupt record means: run again)."""
    path = record_path(out_dir, name)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("inputs"), str) and isinstance(record.get("outputs"), dict)
    return record if ok else None


def is_finished(record: Optional[dict], inputs_digest: str, out_dir: Path) -> bool:
    """The record is for these inputs and every output it lists still exists."""
    if record is None or record.get("inputs") != inputs_digest:
        return False
    return all((Path(out_dir) / str(p)).exists() for p in record["outputs"].values())


def write_record(out_dir: Path, name: str, inputs_digest: str, outputs: dict[str, str], seconds: float) -> dict:
    record = {"stage": name, "inputs": inputs_digest, "outputs": outputs, "seconds": round(seconds, 3)}
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    path = record_path(out_dir, name)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def relative(path: Path, out_dir: Path) -> str:
    """``path`` relative to ``out_dir`` when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path(out_dir).resolve()))
    except ValueError:
        return str(path)


def run_stages(stages: list[Stage], out_dir: Path, log: Callable[[str], None] = print) -> list[StageResult]:
    """Run the stages in order, skipping finished ones; each stage's inputs include the records before it.

    Returns:
        One result per stage. An exception from a stage propagates (its record is not written).
    """
    out_dir = Path(out_dir)
    results: list[StageResult] = []
    chain: list[str] = []
    for number, stage in enumerate(stages, start=1):
        inputs_digest = digest({"inputs": stage.inputs, "before": chain})
        label = f"[{number}/{len(stages)}] {stage.name}"
        record = read_record(out_dir, stage.name)
        if is_finished(record, inputs_digest, out_dir):
            assert record is not None
            log(f"{label}: finished earlier with the same inputs, kept ({record['outputs']})")
            results.append(StageResult(stage.name, "skipped", float(record.get("seconds", 0.0)), record["outputs"]))
        else:
            record_path(out_dir, stage.name).unlink(missing_ok=True)  # stale or corrupt: gone before the work
            log(f"\n==> {label}: {stage.description}")
            started = time.perf_counter()
            outputs = {key: relative(path, out_dir) for key, path in stage.run().items()}
            seconds = time.perf_counter() - started
            missing = [p for p in outputs.values() if not (out_dir / p).exists()]
            if missing:
                raise RuntimeError(f"stage {stage.name} finished without writing {missing}")
            record = write_record(out_dir, stage.name, inputs_digest, outputs, seconds)
            log(f"    {stage.name} done in {seconds:.1f} s")
            results.append(StageResult(stage.name, "ran", seconds, outputs))
        chain.append(digest(record))
    return results


def summary_table(results: list[StageResult], out_dir: Path) -> str:
    """A plain-text table: stage, status, seconds, then each output's path."""
    lines = [f"{'stage':10s} {'status':8s} {'seconds':>8s}  outputs (in {out_dir})"]
    for result in results:
        first = True
        for key, path in result.outputs.items() or {"": ""}.items():
            head = f"{result.name:10s} {result.status:8s} {result.seconds:8.1f}" if first else " " * 28
            lines.append(f"{head}  {key + ': ' if key else ''}{path}")
            first = False
    return "\n".join(lines)


def write_summary(results: list[StageResult], out_dir: Path) -> Path:
    """``summary.json``: the stages (status, seconds, outputs) and every output by name, paths relative to
    ``out_dir``; written atomically."""
    summary = {
        "stages": [r.__dict__ for r in results],
        "outputs": {f"{r.name}.{key}": path for r in results for key, path in r.outputs.items()},
    }
    path = Path(out_dir) / SUMMARY_NAME
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def read_summary(out_dir: Path) -> dict:
    """The ``summary.json`` a pipeline wrote."""
    return json.loads((Path(out_dir) / SUMMARY_NAME).read_text(encoding="utf-8"))
