"""Plots: each figure draws the expected artists, reuses a given Axes and rejects bad input.

All data here are SYNTHETIC (made up in this file to exercise the figures); none is a result.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from spinesim import plot
from spinesim.failure.fatigue import sn_curve
from spinesim.failure.healing import Phase


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------ synthetic data
def synthetic_weeks(n: int = 53) -> np.ndarray:
    return np.linspace(0.0, 52.0, n)


def synthetic_bone(weeks: np.ndarray) -> np.ndarray:
    """Made-up logistic healing curve, 0 -> 80 % bone, midpoint at week 16."""
    return 0.8 / (1.0 + np.exp(-(weeks - 16.0) / 4.0))


def synthetic_phases(weeks: np.ndarray) -> np.ndarray:
    """Made-up phase fractions: a Gaussian bump per phase moving up the ladder, rows sum to 1."""
    centres = np.array([0.0, 6.0, 12.0, 20.0, 40.0, 80.0])
    raw = np.exp(-0.5 * ((weeks[:, None] - centres[None, :]) / 7.0) ** 2)
    return raw / raw.sum(axis=1, keepdims=True)


def synthetic_rod_damage(weeks: np.ndarray, rate_per_week: float, bridged: float) -> np.ndarray:
    """Made-up damage: constant rate until bridging, 20 x slower after (load sharing)."""
    return rate_per_week * (np.minimum(weeks, bridged)
                            + 0.05 * np.maximum(weeks - bridged, 0.0))


def render_all(out_dir: Path) -> list[Path]:
    """Write the six figures with synthetic data to ``out_dir`` as PNG; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    curve = sn_curve("ti6al4v", notch_factor=2.0)
    w = synthetic_weeks()
    t = np.linspace(0.0, 10.0, 41)
    figs = {
        "sn_curve": lambda ax: plot.sn_curve(curve, {
            "walking": (250.0, 1.0e6), "stairs": (330.0, 1.0e5), "lifting": (380.0, 2.0e3)},
            ax=ax),
        "damage_over_time": lambda ax: plot.damage_over_time(
            t, np.column_stack([0.13 * t, 0.04 * t, 0.25 * t]),
            ["rod at L4 screw", "rod mid-span", "rod at L5 screw"], ax=ax),
        "bone_fraction_over_weeks": lambda ax: plot.bone_fraction_over_weeks(
            w, synthetic_bone(w), bridged_week=18.0, horizon_weeks=40.0, ax=ax),
        "tissue_phases_over_weeks": lambda ax: plot.tissue_phases_over_weeks(
            w, synthetic_phases(w), list(Phase), ax=ax),
        "rom_bars": lambda ax: plot.rom_bars(
            ["flexion", "extension", "lateral bending", "axial rotation"],
            [6.0, 4.5, 5.5, 2.5], [1.1, 0.9, 1.4, 1.2], ax=ax),
        "race": lambda ax: plot.race(w, synthetic_bone(w),
                                     synthetic_rod_damage(w, 2e-3, 18.0), bridged_week=18.0,
                                     ax=ax),
    }
    paths = []
    for name, draw in figs.items():
        fig, ax = plt.subplots(figsize=plot.FIGSIZE_IN, layout="constrained")
        draw(ax)
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _legend(ax: Axes) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg else []


# ------------------------------------------------------------------------------ fast import
def test_importing_plot_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, spinesim.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ 1. S-N curve
def test_sn_curve_is_log_log_with_labelled_endurance_line_and_knee():
    curve = sn_curve("ti6al4v")
    ax = plot.sn_curve(curve)
    assert isinstance(ax, Axes)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlim() == pytest.approx((1e3, 1e9))
    assert "MPa" in ax.get_ylabel() and "cycles" in ax.get_xlabel()
    assert "endurance limit 600 MPa" in _texts(ax)
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(600.0)
    knee = [t for t in _legend(ax) if t.startswith("knee at")]
    assert knee == ["knee at 1.0e7 cycles"]          # b is derived through 1e7 cycles


def test_sn_curve_operating_points_show_life_and_no_failure_below_endurance():
    curve = sn_curve("ti6al4v")
    ax = plot.sn_curve(curve, {"high": (700.0, 1e6), "low": (300.0, 1e6)})
    legend = _legend(ax)
    n_high = float(curve.cycles_to_failure(700.0))
    high = next(t for t in legend if t.startswith("high:"))
    mantissa, exponent = f"{n_high:.1e}".split("e")
    assert f"N = {mantissa}e{int(exponent)} cycles" in high
    assert "weeks" in high or "years" in high
    assert any(t.startswith("low:") and "no failure" in t for t in legend)
    assert {"high", "low"} <= set(_texts(ax))


def test_sn_curve_with_notch_factor_draws_effective_endurance_limit():
    ax = plot.sn_curve(sn_curve("ti6al4v", notch_factor=2.0))
    assert "endurance limit 300 MPa" in _texts(ax)


@pytest.mark.parametrize("points, word", [
    ({"a": (float("nan"), 1e6)}, "sigma_a_mpa"),
    ({"a": (-5.0, 1e6)}, "sigma_a_mpa"),
    ({"a": (500.0, 0.0)}, "cycles_per_year"),
    ({"a": (500.0,)}, "operating_points"),
])
def test_sn_curve_rejects_bad_operating_points(points, word):
    with pytest.raises(ValueError, match=word):
        plot.sn_curve(sn_curve("ti6al4v"), points)


# ------------------------------------------------------------------------------ 2. damage
def test_damage_over_time_draws_failure_line_and_annotates_crossing():
    t = np.linspace(0.0, 10.0, 11)
    ax = plot.damage_over_time(t, np.column_stack([0.2 * t, 0.05 * t]), ["fast", "slow"])
    assert any(ln.get_label() == "failure, D = 1" and ln.get_ydata()[0] == 1.0
               for ln in ax.lines)
    assert _texts(ax) == ["5 years"]                         # slow reaches 0.5 only
    assert _legend(ax)[:2] == ["fast (D = 1 at 5 years)", "slow"]
    assert ax.get_xlabel() == "time (years)" and "damage" in ax.get_ylabel()


def test_damage_over_time_single_location_and_log_scale():
    t = np.linspace(0.0, 10.0, 11)
    ax = plot.damage_over_time(t, 1e-4 * t, yscale="log")
    assert ax.get_yscale() == "log"
    assert "location 1" in _legend(ax) and _texts(ax) == []


@pytest.mark.parametrize("kwargs, word", [
    ({"t_years": [0, 1, 2], "damage": [0, 0.1]}, "damage"),
    ({"t_years": [0, 1, 2], "damage": [0, np.nan, 0.2]}, "damage"),
    ({"t_years": [0, -1, 2], "damage": [0, 0.1, 0.2]}, "t_years"),
    ({"t_years": [0, 2, 1], "damage": [0, 0.1, 0.2]}, "t_years"),
    ({"t_years": [0, 1, 2], "damage": [0, -0.1, 0.2]}, "damage"),
    ({"t_years": [0, 1, 2], "damage": [0, 0.1, 0.2], "labels": ["a", "b"]}, "labels"),
])
def test_damage_over_time_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        plot.damage_over_time(**kwargs)


# ------------------------------------------------------------------------------ 3. bone
def test_bone_fraction_plots_percent_with_bridging_line_and_shaded_horizon():
    w = synthetic_weeks()
    ax = plot.bone_fraction_over_weeks(w, synthetic_bone(w), bridged_week=18,
                                       horizon_weeks=40)
    y = ax.lines[0].get_ydata()
    assert y.max() == pytest.approx(100 * synthetic_bone(w).max())
    assert "%" in ax.get_ylabel() and "weeks" in ax.get_xlabel()
    assert "bridged at week 18" in _legend(ax)
    assert "nonunion if not bridged by week 40" in _legend(ax)
    shaded = [p for p in ax.patches if p.get_label().startswith("nonunion")]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(40.0)


@pytest.mark.parametrize("kwargs, word", [
    ({"weeks": [0, 1], "bone_fraction": [0, 0.1, 0.2]}, "bone_fraction"),
    ({"weeks": [-1, 1, 2], "bone_fraction": [0, 0.1, 0.2]}, "weeks"),
    ({"weeks": [0, 1, 2], "bone_fraction": [0, 10, 20]}, "bone_fraction"),
    ({"weeks": [0, 1, 2], "bone_fraction": [0, 0.1, 0.2], "bridged_week": -3}, "bridged_week"),
    ({"weeks": [0, 1, 2], "bone_fraction": [0, 0.1, 0.2], "horizon_weeks": np.nan},
     "horizon_weeks"),
])
def test_bone_fraction_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        plot.bone_fraction_over_weeks(**kwargs)


# ------------------------------------------------------------------------------ 4. phases
def test_tissue_phases_stack_one_area_per_phase_named_from_enum():
    w = synthetic_weeks()
    ax = plot.tissue_phases_over_weeks(w, synthetic_phases(w), list(Phase))
    assert len(ax.collections) == len(Phase)
    assert _legend(ax) == [p.name.replace("_", " ").lower() for p in reversed(Phase)]
    assert ax.get_ylim() == (0, 100) and "%" in ax.get_ylabel()


def test_tissue_phases_reject_rows_not_summing_to_one():
    w = synthetic_weeks(5)
    fr = synthetic_phases(w)
    fr[3] *= 0.9
    with pytest.raises(ValueError, match=r"fractions rows must sum to 1.*row 3"):
        plot.tissue_phases_over_weeks(w, fr, list(Phase))


@pytest.mark.parametrize("names, weeks, word", [
    (["a", "b"], synthetic_weeks(5), "phase_names"),
    (list(Phase), synthetic_weeks(6), "fractions"),
])
def test_tissue_phases_reject_mismatched_shapes(names, weeks, word):
    with pytest.raises(ValueError, match=word):
        plot.tissue_phases_over_weeks(weeks, synthetic_phases(synthetic_weeks(5)), names)


# ------------------------------------------------------------------------------ 5. ROM
def test_rom_bars_draw_two_bars_per_direction_with_percent_of_intact():
    ax = plot.rom_bars(["flexion", "extension", "axial rotation"], [6.0, 4.0, 2.0],
                       [1.5, 1.0, 1.0])
    assert len(ax.patches) == 6
    assert _texts(ax) == ["25 %", "25 %", "50 %"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["flexion", "extension",
                                                            "axial rotation"]
    assert ax.get_ylabel() == "range of motion (degrees)"


@pytest.mark.parametrize("args, word", [
    ((["a", "b"], [1.0, 2.0], [1.0]), "fused_deg"),
    ((["a", "b"], [1.0], [1.0, 2.0]), "intact_deg"),
    ((["a", "b"], [1.0, 0.0], [1.0, 0.5]), "intact_deg"),
    ((["a", "b"], [1.0, 2.0], [1.0, -0.5]), "fused_deg"),
    ((["a", "b"], [1.0, np.inf], [1.0, 0.5]), "intact_deg"),
])
def test_rom_bars_reject_bad_input(args, word):
    with pytest.raises(ValueError, match=word):
        plot.rom_bars(*args)


# ------------------------------------------------------------------------------ 6. race
def test_race_graft_bridges_first():
    w = synthetic_weeks()
    d = synthetic_rod_damage(w, 2e-3, 18.0)
    ax = plot.race(w, synthetic_bone(w), d, bridged_week=18.0)
    ax2 = ax.spinesim_damage_axes
    assert ax2.get_yscale() == "log"
    assert any(ln.get_label() == "rod failure, D = 1" for ln in ax2.lines)
    assert ax.get_title().startswith("graft bridges first (week 18")
    assert "%" in ax.get_ylabel() and "damage" in ax2.get_ylabel()
    assert "bridged, week 18" in _legend(ax)


def test_race_rod_fails_first_and_is_marked():
    w = synthetic_weeks()
    d = synthetic_rod_damage(w, 0.1, 30.0)           # reaches D = 1 at week 10
    ax = plot.race(w, synthetic_bone(w), d, bridged_week=30.0, damage_scale="linear")
    assert ax.spinesim_damage_axes.get_yscale() == "linear"
    assert ax.get_title() == "rod fails first (week 10), bridging at week 30"
    assert "rod fails, week 10" in _legend(ax)


def test_race_with_zero_damage_falls_back_to_linear():
    w = synthetic_weeks()
    ax = plot.race(w, synthetic_bone(w), np.zeros_like(w))
    assert ax.spinesim_damage_axes.get_yscale() == "linear"
    assert ax.get_title().startswith("neither")


@pytest.mark.parametrize("kwargs, word", [
    ({"rod_damage": np.zeros(3)}, "rod_damage"),
    ({"bone_fraction": np.full(53, 1.5)}, "bone_fraction"),
    ({"rod_damage": np.full(53, np.nan)}, "rod_damage"),
    ({"damage_scale": "symlog"}, "damage_scale"),
])
def test_race_rejects_bad_input(kwargs, word):
    w = synthetic_weeks()
    args = {"weeks": w, "bone_fraction": synthetic_bone(w), "rod_damage": 1e-3 * w} | kwargs
    with pytest.raises(ValueError, match=word):
        plot.race(**args)


# ------------------------------------------------------------------------------ all figures
@pytest.mark.parametrize("draw", [
    lambda ax: plot.sn_curve(sn_curve("cocr"), ax=ax),
    lambda ax: plot.damage_over_time([0, 1], [0, 2], ax=ax),
    lambda ax: plot.bone_fraction_over_weeks([0, 1], [0, 0.5], ax=ax),
    lambda ax: plot.tissue_phases_over_weeks([0, 1], [[1, 0], [0.5, 0.5]], ["a", "b"], ax=ax),
    lambda ax: plot.rom_bars(["a"], [2.0], [1.0], ax=ax),
    lambda ax: plot.race([0, 1], [0, 0.5], [0, 0.1], ax=ax),
], ids=["sn_curve", "damage", "bone", "phases", "rom", "race"])
def test_every_plot_draws_on_the_given_axes(draw):
    fig, ax = plt.subplots()
    assert draw(ax) is ax
    assert len(fig.axes) in (1, 2)                   # race adds its twin damage axes only


def test_all_six_figures_render_to_png(tmp_path):
    paths = render_all(tmp_path)
    assert len(paths) == 6
    for p in paths:
        assert p.stat().st_size > 10_000, p.name
