"""Bone strained past the trabecular yield strain: the ratio against hand calculations, the
thread cells against their geometry, and the day-0 check of a segment against its physics."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.failure.bone_overstrain import (YIELD_STRAIN_COMPRESSION, YIELD_STRAIN_TENSION,
                                              strain_summary, thread_cells, yield_strain_ratio)
from spinesim.mesh.generate import box
from spinesim.model.hardware import Screw, build_hardware


def test_ratio_of_uniaxial_and_shear_strains_by_hand():
    eps = np.zeros((4, 3, 3))
    eps[0] = np.diag([0.3 * 0.0084, 0.3 * 0.0084, -0.0084])  # compression at yield
    eps[1] = np.diag([0.0039, -0.3 * 0.0039, -0.3 * 0.0039])  # half the tensile yield strain
    eps[2, 0, 1] = eps[2, 1, 0] = 0.005  # pure shear: principal strains +-0.005
    r = yield_strain_ratio(eps)
    assert r[0] == pytest.approx(1.0)
    assert r[1] == pytest.approx(0.5)
    assert r[2] == pytest.approx(0.005 / YIELD_STRAIN_TENSION)  # tension governs (0.78 < 0.84)
    assert r[3] == 0.0
    assert YIELD_STRAIN_COMPRESSION == 0.0084 and YIELD_STRAIN_TENSION == 0.0078  # [KK98]


def test_ratio_does_not_depend_on_the_frame():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 3, 3)) * 0.004
    eps = 0.5 * (a + np.swapaxes(a, 1, 2))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotated = np.einsum("ij,ejk,lk->eil", q, eps, q)
    assert np.allclose(yield_strain_ratio(rotated), yield_strain_ratio(eps))


@pytest.mark.parametrize("strain, kw, match", [
    (np.zeros((2, 3)), {}, "shape"),
    (np.full((1, 3, 3), np.nan), {}, r"cell\(s\) \[0\]"),
    (np.zeros((1, 3, 3)), {"compression": 0.0}, "compression"),
    (np.zeros((1, 3, 3)), {"tension": -1.0}, "tension"),
])
def test_bad_strain_input_is_refused_by_name(strain, kw, match):
    with pytest.raises(ValueError, match=match):
        yield_strain_ratio(strain, **kw)


def test_summary_is_volume_weighted_by_hand():
    # ratios 0.5, 2, 1.5 with volumes 1, 1, 2 mm^3: half the volume (3rd cell) at 1.5
    s = strain_summary([0.5, 2.0, 1.5], [1.0, 1.0, 2.0])
    assert s.max_ratio == 2.0
    assert s.median_ratio == 1.5 and s.p90_ratio == 2.0
    assert s.fraction_past_yield == pytest.approx(0.75)
    with pytest.raises(ValueError, match="cell 1"):
        strain_summary([1.0, 1.0], [1.0, 0.0])


def test_thread_cells_are_the_cells_the_thread_cylinder_crosses():
    mesh = box((40.0, 30.0, 30.0), (8, 6, 6), "hexahedron")  # 5 mm cells
    axis_x, axis_z = 21.3, 16.1  # off the node lines: no sample on a cell face
    screw = Screw("s", head=(axis_x, -10.0, axis_z), entry=(axis_x, 0.0, axis_z),
                  direction=(0, 1.0, 0), length_mm=17.5)
    hw = build_hardware(mesh, [screw], [], np.full(mesh.n_solid_cells, 100.0))
    radius = 0.5 * screw.outer_diameter_mm
    cells = thread_cells(mesh, hw, radius)["s"]
    conn = np.concatenate([b.cells for b in mesh.solid_blocks])[cells]
    x = mesh.points[conn]  # (n, 8, 3)
    dist = np.hypot(x[..., 0] - axis_x, x[..., 2] - axis_z)  # from the screw axis
    assert np.all(dist.min(axis=1) <= radius) and np.all(dist.max(axis=1) >= radius)
    # the 3.25 mm ring round (21.3, 16.1) spans x 18.05-24.55 and z 12.85-19.35: the 2 x 2
    # columns of 5 mm cells x 15-25, z 10-20; the screw spans y 0-17.5: 4 layers of cells
    assert len(cells) == 16
    assert x[..., 1].min() == 0.0 and x[..., 1].max() == 20.0
    with pytest.raises(ValueError, match="outer_radius_mm"):
        thread_cells(mesh, hw, 0.0)


@pytest.fixture(scope="module")
def day0():
    from spinesim.bone_strain import day0_bone_strain
    from spinesim.scenario import Scenario

    base = Scenario.default()
    return {q: day0_bone_strain(base.with_values({"bone.quality": q}), resolution=0.4)
            for q in ("healthy", "osteoporotic")}


def test_day0_table_has_the_core_and_every_screw_under_every_activity(day0):
    from spinesim.bone_strain import BONE_STRAIN_COLUMNS

    t = day0["healthy"]
    assert tuple(t.columns) == BONE_STRAIN_COLUMNS
    parts = {"cancellous core", "L4 left thread", "L4 right thread", "L5 left thread",
             "L5 right thread"}
    for _, rows in t.groupby("activity"):
        assert set(rows["part"]) == parts
    assert np.all(t["max_ratio"] >= t["p90_ratio"]) and np.all(t["p90_ratio"] >= 0)
    assert np.all((t["fraction_past_yield"] >= 0) & (t["fraction_past_yield"] <= 1))


def test_osteoporotic_bone_is_strained_further_towards_yield(day0):
    """Cancellous modulus x 0.34 and cortical x 0.67 under the same loads: the cancellous
    strains rise, by about the inverse of the cancellous factor where that bone carries the
    load itself (the core), by less at the threads (the pedicles, not scaled, hold the screws)."""
    h, o = (day0[q].set_index(["activity", "part"]) for q in ("healthy", "osteoporotic"))
    rise = o["median_ratio"] / h["median_ratio"]
    core = rise.xs("cancellous core", level="part")
    assert np.all(core > 2.0) and np.all(core < 1 / 0.34 + 0.2)
    assert np.all(rise > 1.3)


def test_module_doctest():
    import doctest

    import spinesim.failure.bone_overstrain as module

    assert doctest.testmod(module).failed == 0
