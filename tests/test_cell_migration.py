"""Cell migration into the graft (spinesim.failure.cell_migration) against the closed form.

A slab of height H between two endplates held at c = 1, closed at its sides, starting empty,
is Fourier's one-dimensional problem; its series solution (Crank, The Mathematics of
Diffusion, 2nd ed. 1975, chapter 4: a plane sheet with both faces at a constant concentration)

    c(z, t) = 1 - sum_n 4 / ((2n+1) pi) sin((2n+1) pi z / H) exp(-(2n+1)^2 pi^2 D t / H^2)

averaged over each cell is what the finite volumes must converge to.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import record
from spinesim.failure.cell_migration import DIFFUSION_MM2_PER_DAY, cell_migration
from spinesim.mesh.generate import grid

H = 12.0   # mm, about the height of the default graft


def _series_cell_means(edges: np.ndarray, t_days: float, D: float, terms: int = 400):
    """Cell means of the series solution over the z-intervals ``edges`` (mm)."""
    k = (2 * np.arange(terms) + 1) * np.pi / H                       # (terms,)
    a, b = edges[:-1, None], edges[1:, None]
    mean_sin = (np.cos(k * a) - np.cos(k * b)) / (k * (b - a))        # mean of sin(k z)
    amp = 4.0 / ((2 * np.arange(terms) + 1) * np.pi) * np.exp(-k**2 * D * t_days)
    return 1.0 - (mean_sin * amp).sum(axis=1)


def _slab(nz: int, nxy: int = 1, cell_type: str = "hexahedron"):
    m = grid(np.linspace(0.0, 2.0, nxy + 1), np.linspace(0.0, 2.0, nxy + 1),
             np.linspace(0.0, H, nz + 1), cell_type)
    return m, cell_migration(m, np.arange(m.n_solid_cells), ["zmin", "zmax"])


def _z_of_cells(m):
    return m.points[m.solid_blocks[0].cells].mean(axis=1)[:, 2]


def test_slab_converges_to_the_series_solution_second_order_in_space():
    """Cell means against the series at 10 days (middle at c = 0.12); time steps fine enough
    (200 a day) that the spatial error dominates: halving the cells divides the error by 4."""
    t, D = 10.0, DIFFUSION_MM2_PER_DAY
    errors = []
    for nz in (6, 12, 24, 48):
        m, mig = _slab(nz)
        c = mig.step(np.zeros(m.n_solid_cells), t, D, steps_per_day=200)
        order = np.argsort(_z_of_cells(m))
        exact = _series_cell_means(np.linspace(0.0, H, nz + 1), t, D)
        errors.append(np.abs(c[order] - exact).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    record("cell migration vs Crank's series, 6/12/24/48 cells: max errors "
           + ", ".join(f"{e:.2e}" for e in errors) + "; orders "
           + ", ".join(f"{r:.2f}" for r in rates))
    assert errors[2] < 2.5e-3 and errors[3] < 7e-4           # 2.05e-3, 5.57e-4 measured
    assert np.all(rates > 1.8), (errors, rates)


def test_time_steps_converge_first_order():
    """Implicit Euler: at fixed cells, halving the step halves the error against the finest
    step; the default 4 steps a day stays within 1 % of it in the middle of the graft."""
    m, mig = _slab(24)
    c0 = np.zeros(m.n_solid_cells)
    ref = mig.step(c0, 10.0, 0.5, steps_per_day=400)
    err = [np.abs(mig.step(c0, 10.0, 0.5, steps_per_day=s) - ref).max() for s in (1, 2, 4)]
    rates = np.log2(np.array(err[:-1]) / np.array(err[1:]))
    assert np.all((rates > 0.8) & (rates < 1.3)), (err, rates)
    middle = np.argmin(np.abs(_z_of_cells(m) - H / 2))
    assert abs(mig.step(c0, 10.0, 0.5)[middle] / ref[middle] - 1.0) < 0.01


def test_closed_sides_keep_the_solution_one_dimensional_and_steps_compose():
    """A 3 x 3 cross-section with sources only at the endplates: every cell of a layer has
    the same concentration (no flux through the sides), and two 7-day steps give one 14-day
    step (the same implicit Euler steps)."""
    m, mig = _slab(8, nxy=3)
    c = mig.step(mig.step(np.zeros(m.n_solid_cells), 7.0, 0.5), 7.0, 0.5)
    z = np.round(_z_of_cells(m), 9)
    for level in np.unique(z):
        layer = c[z == level]
        assert np.ptp(layer) < 1e-12
    np.testing.assert_allclose(c, mig.step(np.zeros(m.n_solid_cells), 14.0, 0.5), atol=1e-12)


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
def test_concentration_stays_in_bounds_rises_and_fills_the_graft(cell_type):
    """Discrete maximum principle on any mesh: from c = 0 it never leaves [0, 1], never falls
    from one week to the next, is highest next to the endplates, and fills the graft in the
    end (steady state c = 1). On tetrahedra the two-point flux is not exact, but bounded."""
    m, mig = _slab(6, nxy=2, cell_type=cell_type)
    c = np.zeros(m.n_solid_cells)
    z = _z_of_cells(m)
    for _ in range(12):
        new = mig.step(c, 7.0, 0.5)
        assert new.min() >= 0.0 and new.max() <= 1.0
        assert np.all(new >= c - 1e-12)
        c = new
    middle = np.abs(z - H / 2) < 1.01                        # the two middle layers
    edge = np.minimum(z, H - z) < 1.01                        # the layers at the endplates
    assert c[middle].max() < c[edge].min()
    full = mig.step(c, 2_000.0, 0.5)
    np.testing.assert_allclose(full, 1.0, atol=1e-9)


def test_the_middle_of_a_12_mm_graft_is_half_populated_after_the_series_time():
    """The series puts c = 0.5 at the middle of the slab at D t / (H/2)^2 = 0.379
    (Crank's plane sheet, leading term, the next is 1e-4: 1 - (4/pi) exp(-pi^2 tau / 4) = 0.5
    -> tau = (4/pi^2) ln(8/pi));
    with D = 0.5 mm^2/day and H = 12 mm that is 27.3 days."""
    tau = 4.0 / np.pi**2 * np.log(8.0 / np.pi)
    t = tau * (H / 2) ** 2 / 0.5
    assert t == pytest.approx(27.3, abs=0.05)
    m, mig = _slab(48)
    c = mig.step(np.zeros(m.n_solid_cells), t, 0.5, steps_per_day=50)
    middle = np.argsort(np.abs(_z_of_cells(m) - H / 2))[:2]
    assert c[middle].mean() == pytest.approx(0.5, abs=5e-3)


def test_bad_inputs_name_what_is_wrong():
    m, mig = _slab(4)
    with pytest.raises(ValueError, match="one value per graft cell"):
        mig.step(np.zeros(3), 1.0, 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mig.step(np.full(4, 1.5), 1.0, 0.5)
    with pytest.raises(ValueError, match="mm\\^2/day"):
        mig.step(np.zeros(4), 1.0, 0.0)
    with pytest.raises(ValueError, match="days"):
        mig.step(np.zeros(4), float("nan"), 0.5)
    with pytest.raises(ValueError, match="no graft face lies on a source"):
        cell_migration(m, np.arange(m.n_solid_cells), ["xmin"][:0] + [np.array([], int)])


# ------------------------------------------------------------------ in the coupled timeline
def _timeline(values: dict, weeks: float = 8):
    from spinesim.scenario import Scenario
    from spinesim.simulate import run_timeline

    return run_timeline(Scenario.default().with_values(values), weeks=weeks, resolution=0.3)


def _union_week(t):
    bridged = t["week"][t["bridged"].astype(bool)]
    return float(bridged.iloc[0]) if len(bridged) else math.inf


def test_a_graft_full_of_cells_from_day_0_heals_as_without_migration():
    """c0 = 1: the concentration stays 1 (the endplates hold 1 too), the rule of mixtures
    returns the tissue's own moduli, and the timeline is the one without migration."""
    off = _timeline({}, weeks=5).timeline
    full = _timeline({"healing.cells.migration": True,
                      "healing.cells.initial_concentration": 1.0}, weeks=5).timeline
    np.testing.assert_allclose(full["graft_cell_concentration"], 1.0, atol=1e-12)
    assert (full["bridged"] == off["bridged"]).all()
    np.testing.assert_allclose(full["graft_bone_fraction"], off["graft_bone_fraction"])
    np.testing.assert_allclose(full["max_rod_stress_amplitude_mpa"],
                               off["max_rod_stress_amplitude_mpa"], rtol=1e-8)
    np.testing.assert_allclose(full["median_graft_shear_strain"],
                               off["median_graft_shear_strain"], rtol=1e-8)


def test_slower_cell_migration_delays_union_and_without_cells_no_bone_forms():
    """The same graft, cells arriving from the endplates at D = 0.5 mm^2/day (the default),
    ten times slower, and practically not at all: union comes later as D falls, never
    before the run without migration, and with no cells no graft cell counts as bone."""
    off = _timeline({}).timeline
    runs = {D: _timeline({"healing.cells.migration": True,
                          "healing.cells.diffusion_mm2_per_day": D}).timeline
            for D in (0.5, 0.05, 1e-6)}
    weeks = {D: _union_week(t) for D, t in runs.items()}
    assert _union_week(off) <= weeks[0.5] < weeks[0.05]
    assert math.isinf(weeks[1e-6]) and (runs[1e-6]["graft_bone_fraction"] == 0).all()
    assert runs[1e-6]["graft_cell_concentration"].iloc[-1] < 0.01
    # cells spread week by week, faster with the larger D
    for t in runs.values():
        assert (np.diff(t["graft_cell_concentration"]) > 0).all()
    assert (runs[0.5]["graft_cell_concentration"] > runs[0.05]["graft_cell_concentration"]).all()


def test_the_smokers_odds_ratio_slows_the_cells_as_it_slows_the_rate():
    """healing.modifiers: the odds ratio divides D as it divides the rate (one biological
    clock), and the report says which D the run used."""
    from spinesim.report import report_dict, report_text
    from spinesim.scenario import Scenario

    values = {"healing.cells.migration": True, "healing.modifiers.smoker": True}
    r = _timeline(values, weeks=2)
    assert r.info["cell_diffusion_mm2_per_day"] == pytest.approx(0.5 / 3.0)
    report = report_dict(r, Scenario.default().with_values(values))
    assert report["model"]["cell_diffusion_mm2_per_day"] == pytest.approx(0.5 / 3.0)
    assert "cells migrate from the endplates at D = 0.167 mm^2/day" in report_text(report)
    assert _timeline({}, weeks=1).info["cell_diffusion_mm2_per_day"] is None


def test_tissue_moduli_mix_with_granulation_tissue_by_the_cell_concentration():
    """[LP02] rule of mixtures: no cells -> granulation tissue whatever the level, full ->
    the level's own tissue, half -> the mean; the undrained constants mix the same way."""
    from spinesim.failure.healing import tissue_properties

    level = np.array([0.0, 3.0, 4.0, 4.0])
    E, nu = tissue_properties(level, cells=np.array([1.0, 0.0, 1.0, 0.5]))
    np.testing.assert_allclose(E, [0.2, 0.2, 6000.0, 0.5 * (6000.0 + 0.2)])
    np.testing.assert_allclose(nu, [0.167, 0.167, 0.3, 0.5 * (0.3 + 0.167)])
    Eu, _ = tissue_properties(level, cells=np.full(4, 0.25), undrained=True)
    E_own, _ = tissue_properties(level, undrained=True)
    E_gran, _ = tissue_properties(np.zeros(4), undrained=True)
    np.testing.assert_allclose(Eu, 0.25 * E_own + 0.75 * E_gran)
    with pytest.raises(ValueError, match=r"one concentration in \[0, 1\] per level"):
        tissue_properties(level, cells=np.array([0.5, 1.2, 0.0, 0.0]))


def test_spinesim_run_writes_the_cell_concentration(tmp_path):
    """`spinesim run` with migration: timeline.csv's ``graft_cell_concentration`` rises, the
    VTU fields carry ``cell_concentration`` (0-1 in the graft, -1 elsewhere) and report.json
    the diffusion coefficient the run used."""
    import json

    import meshio
    import pandas as pd

    from spinesim.cli import main

    scenario = tmp_path / "cells.toml"
    scenario.write_text("[healing.cells]\nmigration = true\n\n[output]\nvtu_weeks = [2]\n",
                        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-o", str(out), "--weeks", "3", "--resolution", "0.3",
                 "--no-plots"]) == 0
    t = pd.read_csv(out / "timeline.csv")
    assert (np.diff(t["graft_cell_concentration"]) > 0).all()
    c = meshio.read(out / "fields" / "week_002.vtu").cell_data["cell_concentration"][0]
    graft = c >= 0
    assert 0 < graft.sum() < len(c) and (c[~graft] == -1).all() and c.max() <= 1.0
    report = json.loads((out / "report.json").read_text())
    assert report["model"]["cell_diffusion_mm2_per_day"] == pytest.approx(0.5)


def test_module_doctest():
    import doctest

    import spinesim.failure.cell_migration as cm

    result = doctest.testmod(cm)
    assert result.attempted >= 5 and result.failed == 0
