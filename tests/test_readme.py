"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_readme_api_quick_start_runs(monkeypatch, capsys, tmp_path):
    """The 10-line quick start (a coarse 8-week run); its scenario file goes to tmp_path."""
    code = _blocks()[0]
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(ROOT)
    code = code.replace('"results/my_scenario.toml"', repr(str(tmp_path / "my.toml")))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    for mode in ("insufficient_support", "hardware_fatigue", "nonunion"):
        assert f"{mode}: fails=" in out
    assert (tmp_path / "my.toml").is_file()


def test_readme_core_example_runs(monkeypatch, capsys):
    code = _blocks()[1]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "mm;" in out and " N" in out
