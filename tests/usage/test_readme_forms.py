"""Every command in the README's ```bash blocks is a form the tests run (or a named exception with its reason)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.usage import forms
from tests.usage.tools import run

ROOT = Path(__file__).resolve().parents[2]


def _known() -> dict:
    known = {forms.normalise(forms.command_line(f, **_placeholders(f))): "run here" for f in forms.RUN_HERE}
    for form, where in forms.RUN_ELSEWHERE.items():
        known[forms.normalise(forms.command_line(form, **_placeholders(form)))] = f"run by {where}"
    for form, reason in forms.NOT_RUN.items():
        known[forms.normalise(forms.command_line(form, **_placeholders(form)))] = f"not run: {reason}"
    return known


def _placeholders(form: str) -> dict:
    return {name: "{" + name + "}" for name in re.findall(r"\{(\w+)\}", form)}


def test_every_readme_command_is_a_tested_form():
    known = _known()
    unknown = []
    for line, words in forms.readme_commands((ROOT / "README.md").read_text()):
        assert words[0] in forms.PROGRAMS, f"README.md:{line}: {words[0]!r} is not a command the tests know"
        if forms.normalise(words) not in known:
            unknown.append(f"README.md:{line}: {' '.join(words)}")
    assert not unknown, "README commands no test runs (add them to tests/usage/forms.py and a test):\n" + "\n".join(
        unknown
    )


def test_every_registered_form_is_still_in_the_readme():
    readme = {forms.normalise(words) for _, words in forms.readme_commands((ROOT / "README.md").read_text())}
    registered = (*forms.RUN_HERE, *forms.RUN_ELSEWHERE, *forms.NOT_RUN)
    stale = [f for f in registered if forms.normalise(forms.command_line(f, **_placeholders(f))) not in readme]
    assert not stale, f"forms the README no longer shows (remove or update them): {stale}"


def test_forms_run_elsewhere_are_spelled_by_their_tests():
    for form, where in forms.RUN_ELSEWHERE.items():
        text = (ROOT / where).read_text()
        words = [w for w in forms.command_line(form, **_placeholders(form)) if not re.fullmatch(r"\{\w+\}", w)]
        if where == "Makefile":
            assert re.search(rf"^{words[1]}:", text, re.M), f"{where} has no {words[1]} target"
            continue
        # the test may shorten the run (--num-times 3 for 16): values of shortening options are not compared
        values = {i + 1 for i, w in enumerate(words) if w in forms.SHORTENING_OPTIONS}
        missing = [w for i, w in enumerate(words) if i not in values and w not in text]
        assert not missing, f"{where} does not run {form!r}: {missing} not found"


def test_normalise_replaces_paths_only():
    words = ["ns-eval", "--load-config", "outputs/x/config.yml", "--output-path", "eval.json"]
    assert forms.normalise(words) == ("ns-eval", "--load-config", "PATH", "--output-path", "PATH")
    assert forms.normalise(["datagen", "validate", "data/obj"]) == ("datagen", "validate", "PATH")
    assert forms.normalise(["ns-train", "x", "--pipeline.model.lpips-lambda", "0"])[-1] == "0"


def test_readme_commands_parse_fenced_bash_only():
    text = "```bash\nmake demo   # a comment\n\n```\n```\nns-train no\n```\n```bash\ndatagen --help\n```\n"
    assert forms.readme_commands(text) == [(2, ["make", "demo"]), (9, ["datagen", "--help"])]


@pytest.mark.slow
@pytest.mark.xdist_group("usage")
def test_datagen_clean_labels_validate_and_help(workspace, tmp_path):
    """`datagen synthetic --inconsistency none` makes a dataset `datagen validate` accepts; `datagen --help` lists
    the subcommands."""
    import json

    data = tmp_path / "clean"
    run(forms.command_line(forms.DATAGEN_CLEAN, data=data) + ["--resolution", "32"], cwd=tmp_path)
    assert json.loads((data / "transforms.json").read_text())["generator"]["inconsistency"]["level"] == "none"
    result = run(forms.command_line(forms.DATAGEN_VALIDATE, data=data), cwd=tmp_path)
    assert result.returncode == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    assert run(forms.command_line(forms.DATAGEN_VALIDATE, data=broken), cwd=tmp_path, expect_success=False).returncode
    help_text = run(forms.command_line(forms.DATAGEN_HELP), cwd=tmp_path).stdout
    assert all(name in help_text for name in ("synthetic", "convert", "validate"))
