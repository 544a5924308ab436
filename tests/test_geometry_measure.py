"""Anatomical measures of closed surfaces against closed-form shapes, the anatomical L4-L5's own
stated volumes, and the dimensions the generator was given."""

from __future__ import annotations

import math
import os
from pathlib import Path

import meshio
import numpy as np
import pytest

from spinesim.errors import MeshError
from spinesim.geometry.lumbar import lumbar_segment
from spinesim.geometry.measure import (
    Surface,
    body_measures,
    cross_section,
    disc_measures,
    extents,
    read_surface,
    reorient,
    segment_surfaces,
    surface_of_cells,
    vertical_chord,
)
from spinesim.mesh.generate import box

ROOT = Path(__file__).resolve().parents[1]
ANATOMY = Path(os.environ.get("SPINESIM_ANATOMY",
                              ROOT.parent / "shared" / "anatomy" / "L4L5_artisynth"))


def _box_surface(size=(40.0, 30.0, 20.0), n=(4, 3, 2)) -> Surface:
    m = box(size, n, "hexahedron")
    return surface_of_cells(m.points, m.solid_blocks[0].cells, name="box")


def _rot_x(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _ellipsoid(a: float, b: float, c: float, n: int) -> Surface:
    """UV-triangulated ellipsoid (poles shared), outward."""
    th = np.linspace(0, np.pi, n + 1)[1:-1]
    ph = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    T, P = np.meshgrid(th, ph, indexing="ij")
    pts = np.stack([a * np.sin(T) * np.cos(P), b * np.sin(T) * np.sin(P), c * np.cos(T)], -1)
    pts = np.vstack([[0, 0, c], pts.reshape(-1, 3), [0, 0, -c]])
    m, k = len(th), len(ph)
    idx = 1 + np.arange(m * k).reshape(m, k)
    nxt = np.roll(idx, -1, axis=1)
    tri = [np.stack([np.zeros(k, int), idx[0], nxt[0]], 1),
           np.stack([np.full(k, len(pts) - 1), nxt[-1], idx[-1]], 1)]
    for i in range(m - 1):
        tri += [np.stack([idx[i], idx[i + 1], nxt[i + 1]], 1),
                np.stack([idx[i], nxt[i + 1], nxt[i]], 1)]
    from spinesim.geometry.measure import _closed_surface
    return _closed_surface(pts, np.concatenate(tri), "ellipsoid")


def test_box_measures_are_exact():
    s = _box_surface()
    assert s.volume_mm3 == pytest.approx(40 * 30 * 20, rel=1e-12)
    area, lo, hi = cross_section(s, 7.3)
    assert area == pytest.approx(1200.0, rel=1e-12)
    assert np.allclose(lo, [0, 0]) and np.allclose(hi, [40, 30])
    assert vertical_chord(s, 13.7, 21.1) == pytest.approx(20.0, rel=1e-12)
    b = body_measures(s)
    assert (b.width_mm, b.depth_mm, b.central_height_mm) == pytest.approx((40, 30, 20))
    assert b.anterior_height_mm == pytest.approx(20) and b.posterior_height_mm == pytest.approx(20)
    assert b.wedge_deg == pytest.approx(0, abs=1e-9) and b.tilt_deg == pytest.approx(0, abs=1e-6)
    assert extents(s, s) == pytest.approx((40, 30, 20))
    assert b.volume_cm3 == pytest.approx(24.0)


def test_a_vertical_line_through_edges_and_vertices_of_a_turned_box_is_found():
    """Through a shared edge, rounding can put the line just outside both triangles; the
    chord must still be found (one of these 267 lines missed without a tolerance)."""
    s = _box_surface()
    for deg in np.linspace(1, 89, 89):
        R = np.array([[math.cos(math.radians(deg)), -math.sin(math.radians(deg)), 0],
                      [math.sin(math.radians(deg)), math.cos(math.radians(deg)), 0],
                      [0, 0, 1.0]])
        turned = Surface(s.points @ R.T, s.triangles, "turned box")
        for p in ((5.0, 5.0), (10.0, 10.0), (20.0, 10.0)):       # a diagonal, vertices
            x, y, _ = R @ [p[0], p[1], 0.0]
            assert vertical_chord(turned, x, y) == pytest.approx(20.0, rel=1e-9)


def test_a_tilted_and_shifted_body_gives_the_same_measures_and_its_tilt():
    s = _box_surface()
    moved = Surface(s.points @ _rot_x(17.0).T + [5.0, -80.0, 300.0], s.triangles, "moved")
    a, b = body_measures(s), body_measures(moved)
    assert b.tilt_deg == pytest.approx(17.0, abs=1e-9)
    assert extents(moved, moved) == pytest.approx((40, 30, 20))
    for f in ("volume_cm3", "width_mm", "depth_mm", "section_area_mm2", "central_height_mm",
              "anterior_height_mm", "posterior_height_mm"):
        assert getattr(b, f) == pytest.approx(getattr(a, f), rel=1e-9), f


def test_section_of_a_tube_subtracts_its_hole():
    m = box((40.0, 40.0, 10.0), (4, 4, 1), "hexahedron")
    cells = m.solid_blocks[0].cells
    centre = m.points[cells].mean(axis=1)
    keep = ~((np.abs(centre[:, 0] - 20) < 10) & (np.abs(centre[:, 1] - 20) < 10))
    s = surface_of_cells(m.points, cells[keep], name="tube")
    assert cross_section(s, 5.0)[0] == pytest.approx(1600 - 400, rel=1e-12)
    assert s.volume_mm3 == pytest.approx(12000, rel=1e-12)


def test_wedge_angle_and_end_heights_of_a_wedged_block():
    """A block whose height grows linearly from 20 mm (posterior) to 30 mm (anterior)."""
    m = box((40.0, 30.0, 1.0), (4, 6, 2), "hexahedron")
    p = m.points.copy()
    p[:, 2] *= 20.0 + 10.0 * p[:, 1] / 30.0
    s = surface_of_cells(p, m.solid_blocks[0].cells, name="wedge")
    b = body_measures(s)
    # the body frame's axis bisects the top and bottom faces: measure along it
    tilt = math.atan(10.0 / 30.0) / 2
    assert b.tilt_deg == pytest.approx(math.degrees(tilt), abs=1e-9)
    assert b.wedge_deg == pytest.approx(math.degrees(2 * tilt), rel=1e-9)
    assert b.anterior_height_mm - b.posterior_height_mm == pytest.approx(
        2 * 0.8 * b.depth_mm * math.tan(tilt), rel=1e-9)
    assert b.volume_cm3 == pytest.approx(40 * 30 * 25 / 1000, rel=1e-12)


@pytest.mark.parametrize("n", [16, 32, 64])
def test_ellipsoid_volume_and_section_converge_at_second_order(n):
    a, b, c = 25.0, 18.0, 12.0
    err = {}
    for k in (n, 2 * n):
        s = _ellipsoid(a, b, c, k)
        err[k] = (abs(s.volume_mm3 / (4 / 3 * math.pi * a * b * c) - 1),
                  abs(cross_section(s, 1e-3)[0] / (math.pi * a * b * (1 - (1e-3 / c) ** 2)) - 1))
    for i in range(2):
        rate = math.log2(err[n][i] / err[2 * n][i])
        assert 1.8 < rate < 2.2, (n, i, err)
    assert err[2 * n][0] < 0.02


def test_generated_body_has_the_dimensions_it_was_given():
    g = lumbar_segment("L3-L5", construct="intact", resolution=0.5)
    s = segment_surfaces(g)
    assert set(s) == {"L3 body", "L3", "L4 body", "L4", "L5 body", "L5", "L3-L4 disc",
                      "L3-L4 nucleus", "L4-L5 disc", "L4-L5 nucleus"}
    for level, tilt in (("L4", 14.0), ("L5", 0.0)):
        d, b = g.dimensions[level], body_measures(s[f"{level} body"])
        assert b.tilt_deg == pytest.approx(tilt, abs=1e-6)           # the disc lordosis above
        assert b.width_mm == pytest.approx(d.endplate_width_mm, rel=1e-9)
        assert b.depth_mm == pytest.approx(d.endplate_depth_mm, rel=1e-9)
        # the centre of each endplate is hollowed by its concavity
        assert b.central_height_mm == pytest.approx(
            d.body_height_mm - d.superior_concavity_mm - d.inferior_concavity_mm, abs=0.05)
        assert b.wedge_deg == pytest.approx(0.0, abs=0.01)           # bodies are not wedged
    # the discs and bodies partition the segment's volume: nothing counted twice or lost
    from spinesim.failure.bridging import cell_volumes
    total = cell_volumes(g.mesh, np.arange(g.mesh.n_solid_cells)).sum()
    parts = sum(s[k].volume_mm3 for k in ("L3", "L4", "L5", "L3-L4 disc", "L4-L5 disc"))
    assert parts == pytest.approx(total, rel=1e-3)
    disc = disc_measures(s["L4-L5 disc"], s["L4-L5 nucleus"])
    assert disc.body.wedge_deg == pytest.approx(g.dimensions["L4"].disc_lordosis_deg, abs=0.2)
    assert 0 < disc.nucleus_volume_fraction < 1


@pytest.mark.parametrize("construct", ["intact", "fused"])
def test_wedged_bodies_have_their_wedge_and_turn_the_vertebra_above(construct):
    """body_wedge_deg: the measured body wedge is the given one, its central height is kept,
    and the upper vertebra turns by the disc wedge plus half of each body's wedge."""
    from spinesim.geometry.measure import body_frame

    dims = {"L4": {"body_wedge_deg": 2.0, "disc_lordosis_deg": 9.0},
            "L5": {"body_wedge_deg": 12.0}}
    g = lumbar_segment("L4-L5", construct=construct, resolution=0.5, dimensions=dims)
    plain = segment_surfaces(lumbar_segment("L4-L5", construct=construct, resolution=0.5))
    s = segment_surfaces(g)
    for level, wedge in (("L4", 2.0), ("L5", 12.0)):
        b = body_measures(s[f"{level} body"])
        assert b.wedge_deg == pytest.approx(wedge, abs=0.01)
        assert b.central_height_mm == pytest.approx(
            body_measures(plain[f"{level} body"]).central_height_mm, abs=0.02)
    z4, z5 = (body_frame(s[f"{lv} body"])[2] for lv in ("L4", "L5"))
    assert math.degrees(math.acos(z4 @ z5)) == pytest.approx(9.0 + 0.5 * (2.0 + 12.0), abs=0.02)
    assert g.quality["min_scaled_jacobian"] > 0.3
    # the pedicle band of L5 (the lowest vertebra: its frame is the global one) moves as one,
    # so the pedicles keep their height; the wedge is taken up above and below it
    from spinesim.geometry.lumbar import ENDPLATE_THICKNESS_MM, _body_planes

    d = g.dimensions["L5"]
    zl, (k0, k1) = _body_planes("L5", d.body_height_mm, ENDPLATE_THICKNESS_MM,
                                d.pedicle_height_mm, 2.5 / 0.5)
    base = lumbar_segment("L4-L5", construct=construct, resolution=0.5,
                          dimensions={"L4": dims["L4"]})       # L5 unwedged, same topology
    block = g.mesh.solid_blocks[0]
    tags = [t for t, n in g.mesh.region_names.items() if n in ("cortical", "cancellous",
                                                                "endplate")]
    body = np.unique(block.cells[(g.cell_vertebra == 1) & np.isin(block.region, tags)])
    planes = body.reshape(len(zl), -1)        # bodies are numbered first, plane by plane
    p0, p1 = base.mesh.points[planes], g.mesh.points[planes]
    assert np.allclose(p0[..., :2], p1[..., :2])
    y0 = p0[k0:k1 + 1, :, 1]
    ratio = ((p1 - p0)[k0:k1 + 1, :, 2] / np.where(np.abs(y0) > 1, y0, np.nan)).ravel()
    assert np.nanmax(ratio) - np.nanmin(ratio) < 1e-9           # one rigid turn of the band
    top = (p1 - p0)[-1, :, 2] / np.where(np.abs(p0[-1, :, 1]) > 1, p0[-1, :, 1], np.nan)
    assert np.nanmean(top) == pytest.approx(math.tan(math.radians(6.0)), rel=1e-9)


def test_read_surface_reorients_the_file_axes(tmp_path):
    s = _box_surface((40.0, 30.0, 20.0))
    f = tmp_path / "box.stl"
    meshio.write(f, meshio.Mesh(s.points, [("triangle", s.triangles)]), binary=True)
    r = read_surface(f, axes=("anterior", "right", "cranial"))
    assert np.ptp(r.points, axis=0) == pytest.approx([30, 40, 20])   # file x is anterior
    assert r.points[:, 0].max() == pytest.approx(0.0) and r.volume_mm3 == pytest.approx(24000)


def test_an_unreadable_surface_file_is_named(tmp_path):
    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"solid x\n facet normal 0 0 1\n garbage\n")
    with pytest.raises(MeshError, match="cannot read mesh .*bad.stl"):
        read_surface(bad)


def test_bad_surfaces_and_axes_are_named():
    s = _box_surface()
    from spinesim.geometry.measure import _closed_surface
    with pytest.raises(MeshError, match="not closed: 3 edge"):
        _closed_surface(s.points, s.triangles[1:], "holed.stl")
    flipped = s.triangles.copy()
    flipped[0] = flipped[0, [0, 2, 1]]
    with pytest.raises(MeshError, match="flip.stl: the triangles are not consistently oriented"):
        _closed_surface(s.points, flipped, "flip.stl")
    with pytest.raises(MeshError, match="right-handed"):
        reorient(s.points, ("anterior", "left", "cranial"))
    with pytest.raises(MeshError, match="right-handed"):
        reorient(s.points, ("anterior", "left"))
    with pytest.raises(MeshError, match="triangle 2 has node ids .* outside the"):
        _closed_surface(s.points, np.vstack([s.triangles[:2], [[0, 1, 10**6]],
                                             s.triangles[3:]]), "ids.stl")
    with pytest.raises(MeshError, match="unknown direction 'up'"):
        reorient(s.points, ("left", "anterior", "up"))
    with pytest.raises(MeshError, match="surface file not found"):
        read_surface("nope.stl")
    with pytest.raises(MeshError, match="misses the surface"):
        cross_section(s, 50.0)
    with pytest.raises(MeshError, match="does not pass through"):
        vertical_chord(s, 100.0, 0.0)


@pytest.mark.skipif(not ANATOMY.is_dir(), reason="the anatomical L4-L5 (shared/anatomy) is not "
                    "on this machine; set SPINESIM_ANATOMY to its folder")
def test_anatomical_volumes_match_the_data_sets_own_statement():
    """The anatomy's README gives the enclosed volumes 45.6/43.7 cm³ (bodies) and 72.6/76.2 cm³
    (whole vertebrae): an independent check of the volume integral on real surfaces."""
    axes = ("anterior", "right", "cranial")
    for name, stated in (("L4_body", 45.6), ("L5_body", 43.7), ("L4_whole", 72.6),
                         ("L5_whole", 76.2)):
        s = read_surface(ANATOMY / f"{name}_mm.stl", axes)
        assert s.volume_mm3 / 1000 == pytest.approx(stated, abs=0.05)
    body = body_measures(read_surface(ANATOMY / "L4_body_mm.stl", axes))
    assert 30 < body.depth_mm < body.width_mm < 70       # lateral wider than deep: axes right
