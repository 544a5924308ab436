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


def test_readme_further_activity_snippet_is_a_valid_scenario():
    """The ``[[activity.custom]]`` TOML block of the README reads as written and adds its
    activity after the built-in ones."""
    import tomllib

    from spinesim.model.activity import activity_spectrum
    from spinesim.scenario import Scenario

    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL)
              if "[[activity.custom]]" in b]
    assert len(blocks) == 1
    s = Scenario.from_dict(tomllib.loads(blocks[0]))
    (entry,) = s.get("activity.custom")
    assert entry.name == "seated_flexion" and entry.compression_n == 200.0
    spec = activity_spectrum(s)
    assert [a.name for a in spec.active()][-1] == "seated_flexion"
    assert "activity_rom_seated_flexion_deg" in blocks[0]
