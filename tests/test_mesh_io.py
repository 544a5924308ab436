from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from spinesim.errors import MeshError
from spinesim.mesh.generate import box, boundary_facets, distorted
from spinesim.mesh.io import read_mesh, write_mesh
from spinesim.mesh.mesh import CellBlock, Mesh

FORMATS = [("m.vtu", None), ("m.xdmf", None), ("m.msh", None), ("m.msh", "gmsh22"),
           ("m.inp", None), ("m.mesh", None)]
NAMED = {"m.vtu", "m.xdmf", "m.msh", "m.inp"}


def two_region_mesh(cell_type: str, facets: bool = False) -> Mesh:
    """Distorted box (irrational coordinates) with interleaved regions 3 and 7."""
    m = distorted(box((2.0, 1.0, 1.5), (2, 2, 2), cell_type), 0.2, seed=1)
    pts = m.points * np.pi / 3.0
    solid = m.blocks[0]
    reg = np.where(np.arange(len(solid)) % 3 == 0, 3, 7).astype(np.int32)
    blocks = [CellBlock(cell_type, solid.cells, reg)]
    names = {3: "cortical", 7: "cancellous"}
    if facets:
        f = boundary_facets(Mesh(pts, (solid,)), nodes=m.node_sets["zmax"])
        blocks.append(CellBlock(f.type, f.cells, 9))
        names[9] = "top surface"
    return Mesh(pts, tuple(blocks), names, m.node_sets)


def assert_same(a: Mesh, b: Mesh, names: bool, node_sets: bool = True) -> None:
    assert a.points.dtype == np.float64
    np.testing.assert_array_equal(a.points, b.points)
    assert [blk.type for blk in a.blocks] == [blk.type for blk in b.blocks]
    for x, y in zip(a.blocks, b.blocks):
        np.testing.assert_array_equal(x.cells, y.cells)
        np.testing.assert_array_equal(x.region, y.region)
    if names:
        assert a.region_names == b.region_names
    if node_sets:
        assert set(a.node_sets) == set(b.node_sets)
        for k in a.node_sets:
            np.testing.assert_array_equal(np.sort(a.node_sets[k]), np.sort(b.node_sets[k]))


@pytest.mark.parametrize("cell_type", ["tetra", "tetra10", "hexahedron"])
@pytest.mark.parametrize("fname,fmt", FORMATS)
@pytest.mark.parametrize("facets", [False, True])
def test_round_trip_keeps_points_cells_regions_exactly(tmp_path, cell_type, fname, fmt, facets):
    mesh = two_region_mesh(cell_type, facets)
    path = tmp_path / fname
    if fname == "m.mesh" and cell_type == "tetra10":
        with pytest.raises(MeshError, match="tetra10"):
            write_mesh(path, mesh, file_format=fmt)
        assert list(tmp_path.iterdir()) == []
        return
    write_mesh(path, mesh, file_format=fmt)
    back = read_mesh(path)
    keeps_sets = fname in {"m.vtu", "m.xdmf", "m.inp"} or (fname == "m.msh" and
                                                            (fmt is None or not facets))
    assert_same(back, mesh, names=fname in NAMED, node_sets=keeps_sets)
    if fname == "m.mesh":
        assert back.region_names == {3: "region_3", 7: "region_7", **({9: "region_9"} if facets
                                                                      else {})}


def test_cell_data_is_split_per_block_with_nan_on_facets(tmp_path):
    import meshio

    mesh = two_region_mesh("tetra", facets=True)
    E = np.linspace(1.0, 2.0, mesh.n_solid_cells)
    u = np.random.default_rng(0).random((mesh.n_nodes, 3))
    for name in ("m.vtu", "m.xdmf", "m.msh"):
        write_mesh(tmp_path / name, mesh, cell_data={"E": E}, point_data={"u": u})
        raw = meshio.read(tmp_path / name)
        np.testing.assert_array_equal(raw.point_data["u"], u)
        got = [np.asarray(d).ravel() for d in raw.cell_data["E"]]
        solid = [g for g, c in zip(got, raw.cells) if c.type == "tetra"]
        facet = [g for g, c in zip(got, raw.cells) if c.type == "triangle"]
        np.testing.assert_array_equal(np.sort(np.concatenate(solid)), E)
        assert np.all(np.isnan(np.concatenate(facet)))
        if name != "m.msh":
            np.testing.assert_array_equal(np.concatenate(solid), E)
    with pytest.raises(MeshError, match="solid cells"):
        write_mesh(tmp_path / "bad.vtu", mesh, cell_data={"E": E[:-1]})
    assert not (tmp_path / "bad.vtu").exists()


def test_xdmf_refers_to_final_h5_and_leaves_no_temporaries(tmp_path):
    mesh = two_region_mesh("hexahedron")
    write_mesh(tmp_path / "spine.xdmf", mesh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spine.h5", "spine.xdmf"]
    refs = {el.text.split(":")[0] for el in ET.parse(tmp_path / "spine.xdmf").iter("DataItem")}
    assert refs == {"spine.h5"}
    # rewriting in place works and still leaves exactly two files
    write_mesh(tmp_path / "spine.xdmf", mesh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spine.h5", "spine.xdmf"]
    assert_same(read_mesh(tmp_path / "spine.xdmf"), mesh, names=True)


def test_write_into_missing_folder_raises_and_leaves_nothing(tmp_path):
    mesh = two_region_mesh("tetra")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_mesh(tmp_path / "nope" / "m.vtu", mesh)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_removes_temporaries_and_keeps_old_file(tmp_path):
    mesh = two_region_mesh("tetra")
    target = tmp_path / "m.msh"
    write_mesh(target, mesh)
    before = target.read_bytes()
    bad = Mesh(mesh.points, mesh.blocks, mesh.region_names)
    with pytest.raises(MeshError, match="m.msh"):
        # gmsh only accepts 1, 3 or 9 data components: meshio fails mid-write
        write_mesh(target, bad, point_data={"q": np.zeros((mesh.n_nodes, 2))})
    assert [p.name for p in tmp_path.iterdir()] == ["m.msh"]
    assert target.read_bytes() == before


def test_hand_written_gmsh22_ascii_with_physical_names(tmp_path):
    text = """$MeshFormat
2.2 0 8
$EndMeshFormat
$PhysicalNames
3
0 5 "corner"
2 1 "load face"
3 1 "vertebra"
$EndPhysicalNames
$Nodes
5
1 0 0 0
2 1 0 0
3 0 1 0
4 0 0 1
5 1 1 1
$EndNodes
$Elements
5
1 15 2 5 1 1
2 1 2 0 1 1 2
3 2 2 1 1 2 3 4
4 4 2 1 1 1 2 3 4
5 4 2 1 1 2 3 4 5
$EndElements
"""
    path = tmp_path / "hand.msh"
    path.write_text(text)
    mesh = read_mesh(path)
    assert [b.type for b in mesh.blocks] == ["triangle", "tetra"]  # vertex and untagged line dropped
    np.testing.assert_array_equal(mesh.blocks[1].cells, [[0, 1, 2, 3], [1, 2, 3, 4]])
    np.testing.assert_array_equal(mesh.blocks[1].region, [1, 1])
    # volume 1 keeps its tag; the surface group that reuses tag 1 is renumbered
    assert mesh.region_names[1] == "vertebra"
    face_tag = int(mesh.blocks[0].region[0])
    assert face_tag != 1 and mesh.region_names[face_tag] == "load face"
    np.testing.assert_array_equal(mesh.points[4], [1.0, 1.0, 1.0])


def test_abaqus_elsets_become_named_regions(tmp_path):
    text = """*HEADING
test
*NODE
1, 0.0, 0.0, 0.0
2, 1.0, 0.0, 0.0
3, 0.0, 1.0, 0.0
4, 0.0, 0.0, 1.0
5, 1.0, 1.0, 1.0
*ELEMENT, TYPE=C3D4
1, 1, 2, 3, 4
2, 2, 3, 4, 5
*ELSET, ELSET=ALL
1, 2
*ELSET, ELSET=Cortical
1
*ELSET, ELSET=Cancellous
2
*NSET, NSET=Fixed
1, 2, 3
"""
    path = tmp_path / "model.inp"
    path.write_text(text)
    mesh = read_mesh(path)
    names = mesh.region_names
    tags = mesh.blocks[0].region
    assert names[int(tags[0])] == "Cortical" and names[int(tags[1])] == "Cancellous"
    assert "ALL" in names.values()  # overridden by the smaller sets
    np.testing.assert_array_equal(mesh.node_sets["Fixed"], [0, 1, 2])


def test_two_column_points_are_padded_to_3d(tmp_path):
    import meshio

    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    meshio.write(tmp_path / "t.vtu", meshio.Mesh(pts, [("triangle", np.array([[0, 1, 2]]))]))
    meshio.Mesh(pts, [("triangle", np.array([[0, 1, 2]]))]).write(tmp_path / "t.mesh")
    mesh = read_mesh(tmp_path / "t.mesh")
    assert mesh.points.shape == (3, 3) and np.all(mesh.points[:, 2] == 0.0)


def test_unsupported_3d_cell_type_raises_naming_file_and_type(tmp_path):
    import meshio

    pts = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]])
    meshio.write(tmp_path / "w.vtu", meshio.Mesh(pts, [("wedge", np.arange(6)[None])]))
    with pytest.raises(MeshError, match=r"w\.vtu.*wedge.*supported: tetra"):
        read_mesh(tmp_path / "w.vtu")


def test_read_checks_mesh_and_reports_file_and_element(tmp_path):
    mesh = box(n=(1, 1, 1), cell_type="tetra")
    cells = mesh.blocks[0].cells.copy()
    cells[4] = cells[4][[1, 0, 2, 3]]  # invert one tet
    bad = Mesh(mesh.points, (CellBlock("tetra", cells, 1),), mesh.region_names)
    write_mesh(tmp_path / "inv.vtu", bad)
    with pytest.raises(MeshError, match=r"inv\.vtu.*tetra\[4\] \(solid cell 4\)"):
        read_mesh(tmp_path / "inv.vtu")
    assert read_mesh(tmp_path / "inv.vtu", check=False).n_solid_cells == 6


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.vtu"):
        read_mesh(tmp_path / "nothere.vtu")


def test_write_accepts_str_path_and_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_mesh("plain.vtu", two_region_mesh("tetra"))
    assert os.listdir(tmp_path) == ["plain.vtu"]
    assert read_mesh(Path("plain.vtu")).region_names == {3: "cortical", 7: "cancellous"}
