from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from spinesim.errors import MeshError
from spinesim.mesh.checks import MeshWarning, check_mesh, quality
from spinesim.mesh.generate import box, distorted, grid, hollow_cylinder
from spinesim.mesh.io import read_mesh, write_mesh
from spinesim.mesh.mesh import CellBlock, Mesh


def with_cells(mesh: Mesh, cells: np.ndarray, points: np.ndarray | None = None) -> Mesh:
    b = mesh.blocks[0]
    return Mesh(mesh.points if points is None else points,
                (CellBlock(b.type, cells, b.region),) + mesh.blocks[1:], mesh.region_names)


@pytest.mark.parametrize("cell_type", ["tetra", "tetra10", "hexahedron"])
def test_valid_meshes_pass(cell_type):
    check_mesh(box(n=(3, 2, 2), cell_type=cell_type))
    check_mesh(distorted(box(n=(3, 3, 3), cell_type=cell_type), 0.2))
    check_mesh(hollow_cylinder(1.0, 2.0, 3.0, 2, 3, 2, cell_type=cell_type))


def test_tiny_but_valid_elements_pass():
    m = box((1e-4, 1e-4, 1e-4), (2, 2, 2), "hexahedron")  # 0.1 micrometre hexes
    check_mesh(m)


def test_inverted_tet_reports_source_and_element_ids():
    m = box(n=(2, 1, 1), cell_type="tetra")
    cells = m.blocks[0].cells.copy()
    cells[[3, 8]] = cells[[3, 8]][:, [1, 0, 2, 3]]
    with pytest.raises(MeshError) as err:
        check_mesh(with_cells(m, cells), source="spine.vtu")
    msg = str(err.value)
    assert "spine.vtu" in msg and "2 inverted or degenerate" in msg
    assert "tetra[3] (solid cell 3)" in msg and "tetra[8] (solid cell 8)" in msg


def test_global_solid_index_counts_previous_blocks():
    m = box(n=(1, 1, 1), cell_type="tetra")
    c = m.blocks[0].cells
    bad = c[2:3][:, [1, 0, 2, 3]]
    mesh = Mesh(m.points, (CellBlock("triangle", c[:1, :3], 2), CellBlock("tetra", c, 1),
                           CellBlock("tetra", bad, 1)))
    with pytest.raises(MeshError, match=re.escape("tetra[0] (solid cell 6)")):
        check_mesh(mesh)


def test_collapsed_hex_is_degenerate():
    m = box(n=(2, 1, 1), cell_type="hexahedron")
    pts = m.points.copy()
    cells = m.blocks[0].cells
    top, bottom = cells[1, 4:], cells[1, :4]
    pts[top] = pts[bottom]  # flatten hex 1 (it now shares nodes with nobody on top)
    mesh = Mesh(pts, (CellBlock("hexahedron", cells[1:2], 1),), {})
    with pytest.raises(MeshError, match=re.escape("hexahedron[0] (solid cell 0)")):
        check_mesh(mesh, source="flat.msh")


def test_hex_inverted_only_at_a_corner_is_caught():
    # a node pushed through the opposite face: Gauss points may stay positive, a vertex does not
    pts = box(n=(1, 1, 1), cell_type="hexahedron").points.copy()
    m = box(n=(1, 1, 1), cell_type="hexahedron")
    pts[m.blocks[0].cells[0, 6]] = [0.6, 0.6, 0.6]
    with pytest.raises(MeshError, match="hexahedron\\[0\\]"):
        check_mesh(with_cells(m, m.blocks[0].cells, pts))


def test_nan_point_reports_node_id():
    m = box(n=(1, 1, 1), cell_type="tetra")
    pts = m.points.copy()
    pts[5, 1] = np.nan
    with pytest.raises(MeshError, match=r"bad\.inp: 1 nodes with non-finite.*node 5"):
        check_mesh(with_cells(m, m.blocks[0].cells, pts), source="bad.inp")


def test_index_out_of_range_reports_element_and_value():
    m = box(n=(1, 1, 1), cell_type="tetra")
    cells = m.blocks[0].cells.copy()
    cells[2, 1] = 99
    cells[4, 0] = -1
    with pytest.raises(MeshError) as err:
        check_mesh(with_cells(m, cells), source="idx.vtu")
    msg = str(err.value)
    assert "idx.vtu: 2 cells with node indices out of range" in msg
    assert "tetra[2] (solid cell 2) has node indices [99]" in msg and "[-1]" in msg


def test_repeated_node_in_cell_is_rejected():
    m = box(n=(1, 1, 1), cell_type="tetra")
    cells = m.blocks[0].cells.copy()
    cells[1, 3] = cells[1, 0]
    with pytest.raises(MeshError, match=re.escape("tetra[1] (solid cell 1) nodes")):
        check_mesh(with_cells(m, cells))


def test_many_bad_elements_list_ten_and_the_count():
    m = box(n=(3, 3, 3), cell_type="hexahedron")
    cells = m.blocks[0].cells[:, [4, 5, 6, 7, 0, 1, 2, 3]]  # all inverted
    with pytest.raises(MeshError) as err:
        check_mesh(with_cells(m, cells))
    msg = str(err.value)
    assert "27 inverted" in msg and "first 10 shown" in msg
    assert msg.count("hexahedron[") == 10


def test_unused_nodes_warn_and_log(caplog):
    m = box(n=(1, 1, 1), cell_type="tetra")
    pts = np.vstack([m.points, [[5.0, 5.0, 5.0], [6.0, 6.0, 6.0]]])
    with caplog.at_level(logging.WARNING, logger="spinesim.mesh.checks"):
        with pytest.warns(MeshWarning, match=r"extra\.vtu: 2 nodes are not used.*\[8, 9\]"):
            check_mesh(with_cells(m, m.blocks[0].cells, pts), source="extra.vtu")
    assert "2 nodes are not used" in caplog.text


def test_bad_mesh_files_raise_with_file_name(tmp_path):
    import meshio

    m = box(n=(1, 1, 1), cell_type="hexahedron")
    pts = m.points.copy()
    pts[3] = np.inf
    meshio.write(tmp_path / "inf.vtu", meshio.Mesh(pts, [("hexahedron", m.blocks[0].cells)]))
    with pytest.raises(MeshError, match=r"inf\.vtu.*node 3"):
        read_mesh(tmp_path / "inf.vtu")
    cells = m.blocks[0].cells.copy()
    cells[0, 2] = 50
    meshio.write(tmp_path / "oob.vtu", meshio.Mesh(m.points, [("hexahedron", cells)]))
    with pytest.raises(MeshError, match=r"oob\.vtu.*hexahedron\[0\].*\[50\]"):
        read_mesh(tmp_path / "oob.vtu")
    flat = m.points.copy()
    flat[:, 2] = 0.0
    write_mesh(tmp_path / "flat.inp", Mesh(flat, m.blocks, {1: "solid"}))
    with pytest.raises(MeshError, match=r"flat\.inp.*hexahedron\[0\] \(solid cell 0\)"):
        read_mesh(tmp_path / "flat.inp")


def test_quality_of_regular_and_distorted_cells():
    q = quality(box(n=(2, 2, 2), cell_type="hexahedron"))
    np.testing.assert_allclose(q["scaled_jacobian"], 1.0)
    np.testing.assert_allclose(q["aspect_ratio"], 1.0)
    # regular tetrahedron: scaled Jacobian 1, aspect ratio 1
    reg = np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    q = quality(Mesh(reg, (CellBlock("tetra", np.array([[0, 2, 1, 3]]), 1),)))
    np.testing.assert_allclose(q["scaled_jacobian"], 1.0)
    np.testing.assert_allclose(q["aspect_ratio"], 1.0)
    m = distorted(box(n=(3, 3, 3), cell_type="tetra10"), 0.3)
    q = quality(m)
    assert q["scaled_jacobian"].shape == (m.n_solid_cells,)
    assert np.all((q["scaled_jacobian"] > 0) & (q["scaled_jacobian"] <= 1 + 1e-12))
    assert np.all(q["aspect_ratio"] >= 1.0) and np.all(q["min_detJ"] > 0)
    inv = box(n=(1, 1, 1), cell_type="hexahedron")
    inv = Mesh(inv.points, (CellBlock("hexahedron", inv.blocks[0].cells[:, [4, 5, 6, 7, 0, 1, 2,
                                                                             3]], 1),))
    assert quality(inv)["scaled_jacobian"][0] == pytest.approx(-1.0)


def test_with_solid_cells_keeps_or_compacts_the_nodes():
    """A sub-mesh of solid cells: node ids unchanged without compact; with it only the
    cells' nodes, renumbered in ascending order, at the same positions."""
    mesh = grid(np.linspace(0, 3, 4), np.linspace(0, 1, 2), np.linspace(0, 1, 2))
    cells = np.array([2, 1])
    whole = mesh.with_solid_cells(cells)
    assert whole.n_nodes == mesh.n_nodes and whole.n_solid_cells == 2
    assert np.array_equal(whole.solid_blocks[0].cells, mesh.solid_blocks[0].cells[cells])
    small = mesh.with_solid_cells(cells, compact=True)
    used = np.unique(mesh.solid_blocks[0].cells[cells])
    assert small.n_nodes == len(used) == 12
    assert np.allclose(small.points[small.solid_blocks[0].cells],
                       mesh.points[mesh.solid_blocks[0].cells[cells]])
    assert small.region_names == mesh.region_names
