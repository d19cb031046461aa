"""Stage bookkeeping: finished stages are kept, changed inputs / crashes / corrupt records / missing outputs make a
stage (and those after it) run again; the summary reads back."""

from __future__ import annotations

import json

import pytest

from nsglue.pipeline_stages import (
    Stage,
    file_digest,
    read_summary,
    record_path,
    run_stages,
    summary_table,
    write_summary,
)


class Counting:
    """Two stages writing one file each; counts how often each ran."""

    def __init__(self, out):
        self.out = out
        self.calls = {"a": 0, "b": 0}
        self.option = 1
        self.crash_b = False

    def stages(self):
        def make(name):
            def run():
                self.calls[name] += 1
                if name == "b" and self.crash_b:
                    (self.out / "b.txt").write_text("partial")
                    raise RuntimeError("killed")
                path = self.out / f"{name}.txt"
                path.write_text(f"{name} {self.option}")
                return {"file": path}

            return run

        return [Stage("a", "first", {"option": self.option}, make("a")), Stage("b", "second", {}, make("b"))]

    def run(self):
        return run_stages(self.stages(), self.out, log=lambda _: None)


def test_second_run_skips_finished_stages(tmp_path):
    pipeline = Counting(tmp_path)
    first = pipeline.run()
    mtime = record_path(tmp_path, "a").stat().st_mtime_ns
    second = pipeline.run()
    assert pipeline.calls == {"a": 1, "b": 1}
    assert [r.status for r in first] == ["ran", "ran"] and [r.status for r in second] == ["skipped", "skipped"]
    assert record_path(tmp_path, "a").stat().st_mtime_ns == mtime
    assert second[0].outputs == {"file": "a.txt"}


def test_changed_input_reruns_that_stage_and_the_ones_after(tmp_path):
    pipeline = Counting(tmp_path)
    pipeline.run()
    pipeline.option = 2
    assert [r.status for r in pipeline.run()] == ["ran", "ran"]
    assert pipeline.calls == {"a": 2, "b": 2}


def test_crash_leaves_no_record_and_the_stage_runs_again(tmp_path):
    pipeline = Counting(tmp_path)
    pipeline.crash_b = True
    with pytest.raises(RuntimeError):
        pipeline.run()
    assert record_path(tmp_path, "a").is_file() and not record_path(tmp_path, "b").exists()
    pipeline.crash_b = False
    assert [r.status for r in pipeline.run()] == ["skipped", "ran"]
    assert (tmp_path / "b.txt").read_text() == "b 1"


@pytest.mark.parametrize("damage", ["corrupt", "wrong-type", "output-gone"])
def test_damaged_record_or_output_means_redo(tmp_path, damage):
    pipeline = Counting(tmp_path)
    pipeline.run()
    if damage == "corrupt":
        record_path(tmp_path, "b").write_text('{"stage": "b", "inputs": ')
    elif damage == "wrong-type":
        record_path(tmp_path, "b").write_text("[]")
    else:
        (tmp_path / "b.txt").unlink()
    assert [r.status for r in pipeline.run()] == ["skipped", "ran"]
    assert json.loads(record_path(tmp_path, "b").read_text())["outputs"] == {"file": "b.txt"}


def test_summary_reads_back(tmp_path):
    results = Counting(tmp_path).run()
    write_summary(results, tmp_path)
    summary = read_summary(tmp_path)
    assert summary["outputs"] == {"a.file": "a.txt", "b.file": "b.txt"}
    assert [s["status"] for s in summary["stages"]] == ["ran", "ran"]
    table = summary_table(results, tmp_path)
    assert "a.txt" in table.splitlines()[1] and table.splitlines()[2].split()[:2] == ["b", "ran"]


def test_file_digest_of_file_and_folder(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "1.png").write_bytes(b"x")
    before = file_digest(tmp_path / "d")
    (tmp_path / "d" / "1.png").write_bytes(b"y")
    assert file_digest(tmp_path / "d") != before
    (tmp_path / "f").write_bytes(b"x")
    assert file_digest(tmp_path / "f") == file_digest(tmp_path / "f")
