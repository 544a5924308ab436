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


def synthetic_sweep() -> tuple[list[float], list[float], np.ndarray]:
    """Made-up failure probabilities over rod diameter (mm) x bone density (g/cm^3)."""
    xs, ys = [4.5, 5.5, 6.0, 6.35], [0.6, 0.8, 1.0, 1.2, 1.4]
    p = 0.35 * np.exp(-(0.9 * (np.array(xs)[None, :] - 4.5) + 2.0 * (np.array(ys)[:, None]
                                                                       - 0.6)))
    return xs, ys, p


SYNTHETIC_SENSITIVITIES = {"rod diameter (mm)": -0.62, "daily steps": 0.52,
                           "bone density (g/cm^3)": -0.41, "body mass (kg)": 0.35,
                           "cage height (mm)": 0.08, "screw length (mm)": -0.03}


def render_all(out_dir: Path) -> list[Path]:
    """Write the eight array figures with synthetic data to ``out_dir`` as PNG; return the
    paths (the sagittal slice needs a solved model and has its own test)."""
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
        "failure_heatmap": lambda ax: plot.failure_heatmap(
            *synthetic_sweep()[:2], synthetic_sweep()[2], x_label="rod diameter (mm)",
            y_label="bone density (g/cm$^3$)", ci_low=0.7 * synthetic_sweep()[2],
            ci_high=1.4 * synthetic_sweep()[2], ax=ax),
        "tornado": lambda ax: plot.tornado(SYNTHETIC_SENSITIVITIES,
                                           outcome="rod damage after 2 years (-)", ax=ax),
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


def test_bone_fraction_draws_each_level_of_a_multi_level_fusion():
    w = synthetic_weeks()
    upper, lower = synthetic_bone(w), 0.5 * synthetic_bone(w)
    ax = plot.bone_fraction_over_weeks(w, 0.5 * (upper + lower),
                                       levels={"L3-L4": upper, "L4-L5": lower})
    assert _legend(ax)[:3] == ["graft bone fraction", "level L3-L4", "level L4-L5"]
    assert ax.lines[2].get_ydata() == pytest.approx(100 * lower)
    with pytest.raises(ValueError, match=r"levels\['L4-L5'\]"):
        plot.bone_fraction_over_weeks(w, upper, levels={"L4-L5": upper[:-1]})


def test_bone_fraction_draws_the_bridged_share_of_the_fusion_area_and_grade_i():
    w = synthetic_weeks()
    area = np.clip(2.0 * synthetic_bone(w) - 0.5, 0.0, 1.0)
    ax = plot.bone_fraction_over_weeks(w, synthetic_bone(w), bridged_area=area)
    assert _legend(ax)[1:3] == ["fusion area bridged by bone", "CT grade I above 50 %"]
    assert ax.lines[1].get_ydata() == pytest.approx(100 * area)
    assert ax.lines[2].get_ydata() == pytest.approx([50.0, 50.0])
    assert "fusion area" in ax.get_ylabel()
    with pytest.raises(ValueError, match="bridged_area"):
        plot.bone_fraction_over_weeks(w, area, bridged_area=area[:-1])
    with pytest.raises(ValueError, match="bridged_area"):
        plot.bone_fraction_over_weeks(w, area, bridged_area=100 * area)


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
    lambda ax: plot.failure_heatmap([1], [2], [[0.5]], x_label="a (mm)", y_label="b (-)",
                                    ax=ax),
    lambda ax: plot.tornado({"a": 0.5}, outcome="x", ax=ax),
], ids=["sn_curve", "damage", "bone", "phases", "rom", "race", "heatmap", "tornado"])
def test_every_plot_draws_on_the_given_axes(draw):
    fig, ax = plt.subplots()
    assert draw(ax) is ax
    assert len(fig.axes) in (1, 2)      # race adds its twin damage axes, heatmap a colour bar


def test_all_eight_array_figures_render_to_png(tmp_path):
    paths = render_all(tmp_path)
    assert len(paths) == 8
    for p in paths:
        assert p.stat().st_size > 10_000, p.name


# ------------------------------------------------------------------------------ 7. heatmap
def test_failure_heatmap_shows_percent_with_ci_per_cell_and_labelled_colour_bar():
    xs, ys, p = synthetic_sweep()
    ax = plot.failure_heatmap(xs, ys, p, x_label="rod diameter (mm)",
                              y_label="bone density (g/cm$^3$)", ci_low=0.7 * p,
                              ci_high=1.4 * p)
    texts = _texts(ax)
    assert len(texts) == p.size
    assert texts[0] == "35 %\n[24-49]"                   # row 0 (bottom), column 0
    assert ax.collections[0].get_array().max() == pytest.approx(35.0)
    cbar = ax.spinesim_colorbar
    assert cbar.ax.get_ylabel() == "probability of hardware fatigue failure (%)"
    assert cbar.mappable.get_clim() == (0.0, 50.0)     # nice ceiling above 35 %
    assert ax.get_xlabel() == "rod diameter (mm)" and "g/cm" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4.5", "5.5", "6", "6.35"]
    assert "confidence interval" in ax.get_title()


def test_failure_heatmap_takes_names_a_fixed_scale_and_the_failure_mode():
    ax = plot.failure_heatmap(["Ti-6Al-4V", "CoCr"], [0.6], [[0.004, 0.0]],
                              x_label="rod material", y_label="bone density (g/cm$^3$)",
                              mode="screw loosening", vmax_percent=100)
    assert _texts(ax) == ["0.4 %", "0 %"]
    assert ax.spinesim_colorbar.mappable.get_clim() == (0.0, 100.0)
    assert "screw loosening" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Ti-6Al-4V", "CoCr"]


@pytest.mark.parametrize("kwargs, word", [
    ({"probability": [[0.1, 0.2]]}, "probability"),                     # wrong shape
    ({"probability": [[0.1, 20.0], [0.1, 0.1]]}, "probability"),        # percent, not fraction
    ({"probability": [[0.1, np.nan], [0.1, 0.1]]}, "probability"),
    ({"x_values": []}, "x_values"),
    ({"ci_low": [[0.0, 0.0], [0.0, 0.0]]}, "ci_high"),                  # only one bound
    ({"ci_low": [[0.2, 0.0], [0.0, 0.0]], "ci_high": [[0.3, 0.3], [0.3, 0.3]]}, "ci_low"),
    ({"ci_low": [[0.0, 0.0], [0.0, 0.0]], "ci_high": [[0.3, 0.1], [0.3, 0.3]]}, "ci_high"),
    ({"x_label": ""}, "x_label"),
    ({"vmax_percent": 150}, "vmax_percent"),
])
def test_failure_heatmap_rejects_bad_input(kwargs, word):
    args = {"x_values": [1, 2], "y_values": [3, 4], "probability": [[0.1, 0.2], [0.1, 0.1]],
            "x_label": "a (mm)", "y_label": "b (-)"} | kwargs
    with pytest.raises(ValueError, match=word):
        plot.failure_heatmap(**args)


# ------------------------------------------------------------------------------ 8. tornado
def test_tornado_sorts_by_magnitude_colours_by_sign_and_draws_zero_line():
    ax = plot.tornado(SYNTHETIC_SENSITIVITIES, outcome="rod damage after 2 years (-)")
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[-1] == "rod diameter (mm)" and names[0] == "screw length (mm)"  # top: largest
    widths = [b.get_width() for b in ax.patches]
    assert widths == sorted(widths, key=abs)
    signs = {b.get_width() > 0: b.get_facecolor() for b in ax.patches}
    assert signs[True] != signs[False]
    assert all(b.get_hatch() == "//" for b in ax.patches if b.get_width() < 0)
    assert any(ln.get_xdata()[0] == 0 for ln in ax.lines)           # zero line
    assert ax.get_title() == "sensitivity of rod damage after 2 years (-)"
    assert "(-)" in ax.get_xlabel() and ax.get_xlim() == pytest.approx((-1.18, 1.18))
    assert "-0.62" in _texts(ax) and "+0.52" in _texts(ax)


def test_tornado_variance_share_is_one_sided():
    ax = plot.tornado({"a": 0.6, "b": 0.3}, outcome="ROM (deg)", measure="variance share")
    assert ax.get_xlim()[0] == 0.0 and "variance" in ax.get_xlabel()
    assert ax.get_legend() is None


@pytest.mark.parametrize("kwargs, word", [
    ({"sensitivities": {}}, "sensitivities"),
    ({"sensitivities": {"a": 1.5}}, "sensitivities\\['a'\\]"),
    ({"sensitivities": {"a": np.nan}}, "sensitivities"),
    ({"sensitivities": {"a": "big"}}, "sensitivities"),
    ({"sensitivities": [("a", 0.1)]}, "mapping"),
    ({"sensitivities": {"a": -0.2}, "measure": "variance share"}, "variance share"),
    ({"measure": "sobol"}, "measure"),
    ({"outcome": ""}, "outcome"),
])
def test_tornado_rejects_bad_input(kwargs, word):
    args = {"sensitivities": {"a": 0.5}, "outcome": "x (-)"} | kwargs
    with pytest.raises(ValueError, match=word):
        plot.tornado(**args)


# ------------------------------------------------------------------------------ 9. sagittal
@pytest.fixture(scope="module")
def fused_flexion():
    """A small bilateral-cage L4-L5 segment solved in flexion (about 4 s)."""
    from spinesim.model.loadcases import load_case
    from spinesim.model.segment import SegmentOptions, build_segment, solve_rom

    seg = build_segment(SegmentOptions(construct="bilateral-cage", resolution=0.3))
    result = solve_rom(seg, [load_case("flexion")], keep_solutions=True)["flexion"]
    hw = seg.hardware
    # beam nodes are model node ids; hardware.points are the nodes after the solid ones
    lines = np.vstack([b["nodes"] - hw.layout.n_solid for b in hw.beams.values()])
    return seg, result.solution.displacement, hw.points, lines


def test_sagittal_section_of_a_cube_split_at_its_faces_and_inside():
    from spinesim.mesh.mesh import CellBlock, Mesh

    g = np.array([-1.0, 0.0, 1.0])
    pts = np.array([[x, y, z] for z in (0.0, 2.0) for y in (0.0, 3.0) for x in g])
    # two hexes side by side along x, sharing the face x = 0
    idx = {tuple(p): i for i, p in enumerate(pts)}

    def hexa(x0, x1):
        return [idx[(x, y, z)] for z in (0.0, 2.0)
                for (x, y) in ((x0, 0.0), (x1, 0.0), (x1, 3.0), (x0, 3.0))]

    mesh = Mesh(pts, (CellBlock("hexahedron", np.array([hexa(-1.0, 0.0), hexa(0.0, 1.0)]),
                                np.ones(2, dtype=int)),))
    cells, polys = plot.sagittal_section(mesh, 0.0)       # on the shared face: +x cell only
    assert cells.tolist() == [1] and len(polys[0]) == 4
    cells, polys = plot.sagittal_section(mesh, -0.4)
    assert cells.tolist() == [0]
    assert np.ptp(polys[0], axis=0) == pytest.approx([3.0, 2.0])
    assert plot.sagittal_section(mesh, 5.0)[0].size == 0


def test_sagittal_von_mises_draws_cut_cells_hardware_and_mpa_colour_bar(fused_flexion,
                                                                       tmp_path):
    from matplotlib.collections import LineCollection, PolyCollection

    from spinesim.fem.materials import Isotropic
    from spinesim.fem.post import cell_values, solid_fields, von_mises

    seg, u, hp, lines = fused_flexion
    mesh = seg.geometry.mesh
    fig, ax = plt.subplots(figsize=plot.FIGSIZE_IN, layout="constrained")
    assert plot.sagittal_von_mises(mesh, u, seg.E, seg.nu, hardware_points=hp,
                                   hardware_lines=lines, ax=ax) is ax
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    hw = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(polys) == 1 and len(hw) == 1
    cells, _ = plot.sagittal_section(mesh, 0.0)
    expected = von_mises(cell_values(solid_fields(mesh, u, Isotropic(seg.E, seg.nu),
                                                  bbar=True)))[cells]
    values = np.asarray(polys[0].get_array())
    assert len(values) == len(cells) > 100
    assert values == pytest.approx(expected)
    assert len(hw[0].get_segments()) == len(lines)
    assert hw[0].get_segments()[0] == pytest.approx(hp[lines[0]][:, 1:])   # (y, z) projection
    cbar = ax.spinesim_colorbar
    assert "MPa" in cbar.ax.get_ylabel()
    assert cbar.mappable.norm.vmax == pytest.approx(values.max())
    assert "(mm)" in ax.get_xlabel() and "anterior" in ax.get_xlabel()
    assert "(mm)" in ax.get_ylabel() and "cranial" in ax.get_ylabel()
    # anterior to the right, cranial up: the vertebral bodies (y > -20) sit right of the rods
    assert ax.get_xlim()[0] < hp[:, 1].min() and ax.get_xlim()[1] > 0
    path = tmp_path / "sagittal_von_mises.png"
    fig.savefig(path, dpi=120)
    assert path.stat().st_size > 10_000


def test_sagittal_von_mises_linear_scale_with_cap_and_no_hardware(fused_flexion):
    seg, u, _, _ = fused_flexion
    ax = plot.sagittal_von_mises(seg.geometry.mesh, u, seg.E, seg.nu, x0=5.3,
                                 scale="linear", vmax_mpa=5.0)
    assert ax.spinesim_colorbar.mappable.get_clim() == (0.0, 5.0)
    assert ax.spinesim_colorbar.extend == "max"
    assert "x = 5.3 mm" in ax.get_title() and ax.get_legend() is None


@pytest.mark.parametrize("kwargs, word", [
    ({"displacement": np.zeros((5, 3))}, "displacement"),
    ({"displacement": "none"}, "displacement"),
    ({"E": -1.0}, "E"),
    ({"nu": 0.5}, "nu"),
    ({"hardware_points": np.zeros((2, 3))}, "hardware_lines"),
    ({"hardware_points": np.zeros((2, 3)), "hardware_lines": [[0, 2]]}, "hardware_lines"),
    ({"hardware_points": np.zeros((2, 2)), "hardware_lines": [[0, 1]]}, "hardware_points"),
    ({"hardware_points": np.zeros((2, 3)), "hardware_lines": [[0.0, 1.0]]}, "hardware_lines"),
    ({"x0": 500.0}, "x0"),
    ({"x0": np.inf}, "x0"),
    ({"scale": "symlog"}, "scale"),
    ({"vmax_mpa": 0.0}, "vmax_mpa"),
])
def test_sagittal_von_mises_rejects_bad_input(fused_flexion, kwargs, word):
    seg, u, _, _ = fused_flexion
    args = {"mesh": seg.geometry.mesh, "displacement": u, "E": seg.E, "nu": seg.nu} | kwargs
    with pytest.raises(ValueError, match=word):
        plot.sagittal_von_mises(**args)
