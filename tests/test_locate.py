"""Point location in solid cells: found points, exact interpolation, outside points, errors."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import MeshError
from spinesim.mesh import locate
from spinesim.mesh.generate import box, distorted, hollow_cylinder
from spinesim.mesh.locate import Location, locate_points, require_inside
from spinesim.mesh.mesh import CellBlock, Mesh

CELL_TYPES = ["tetra", "tetra10", "hexahedron"]
SIZE = np.array([2.0, 3.0, 4.0])


def _mesh(cell_type: str) -> Mesh:
    return distorted(box(tuple(SIZE), (3, 4, 5), cell_type), 0.25, seed=3)


def _inside_points(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, 3)) * SIZE


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_random_points_in_distorted_box_are_found_and_reproduced(cell_type):
    mesh = _mesh(cell_type)
    pts = _inside_points(500)
    loc = locate_points(mesh, pts)
    assert loc.inside.all()
    assert np.all(loc.cell >= 0) and np.all(loc.block == 0)
    np.testing.assert_array_equal(loc.local, loc.cell)
    np.testing.assert_allclose(loc.interpolate(mesh.points), pts, rtol=0, atol=1e-10)
    np.testing.assert_allclose(loc.shape_values().sum(axis=1), 1.0, atol=1e-12)
    # the reported cell really holds the point: its nodes are the cell's nodes
    cells = mesh.solid_blocks[0].cells
    np.testing.assert_array_equal(loc.nodes, cells[loc.local])


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_linear_field_is_interpolated_exactly(cell_type):
    mesh = _mesh(cell_type)
    pts = _inside_points(300, seed=1)
    a, b = np.array([0.7, -1.3, 2.1]), 0.4

    def field(x):
        return x @ a + b

    loc = locate_points(mesh, pts)
    np.testing.assert_allclose(loc.interpolate(field(mesh.points)), field(pts), atol=1e-10)
    # vector-valued fields too
    vec = np.stack([field(mesh.points), 2 * field(mesh.points)], axis=1)
    np.testing.assert_allclose(loc.interpolate(vec)[:, 1], 2 * field(pts), atol=1e-10)


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_points_outside_the_box_are_flagged(cell_type):
    mesh = _mesh(cell_type)
    pts = np.array([[-0.1, 1.0, 1.0], [1.0, 3.0 + 1e-6, 2.0], [5.0, 5.0, 5.0], [1.0, 1.0, -2.0]])
    loc = locate_points(mesh, np.vstack([pts, [[1.0, 1.0, 1.0]]]))
    assert loc.inside.tolist() == [False, False, False, False, True]
    assert np.all(loc.cell[:4] == -1) and np.all(loc.block[:4] == -1)
    assert np.all(loc.nodes[:4] == -1) and np.all(loc.N[:4] == 0.0)
    assert np.all(np.isnan(loc.xi[:4]))
    assert np.all(np.isnan(loc.interpolate(mesh.points)[:4]))


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_points_on_nodes_edges_and_faces_are_found(cell_type):
    mesh = _mesh(cell_type)
    # every mesh node (corners, boundary and interior nodes, tet10 midside nodes)
    loc = locate_points(mesh, mesh.points)
    assert loc.inside.all()
    np.testing.assert_allclose(loc.interpolate(mesh.points), mesh.points, atol=1e-10)
    # points on the boundary faces of the box and on interior faces (face centroids)
    rng = np.random.default_rng(5)
    on_faces = rng.uniform(0, 1, (60, 3)) * SIZE
    on_faces[:20, 0] = 0.0
    on_faces[20:40, 1] = SIZE[1]
    on_faces[40:, 2] = SIZE[2]
    cells = mesh.solid_blocks[0].cells
    # the mean of a (possibly warped) quad face's corners lies on its bilinear surface
    face = cells[:, [0, 1, 2]] if cell_type != "hexahedron" else cells[:, [0, 1, 2, 3]]
    face_centres = mesh.points[face].mean(axis=1)
    loc = locate_points(mesh, np.vstack([on_faces, face_centres]))
    assert loc.inside.all()
    np.testing.assert_allclose(loc.interpolate(mesh.points)[:60], on_faces, atol=1e-10)


def test_points_in_the_hole_of_a_non_convex_mesh_are_outside():
    mesh = hollow_cylinder(5.0, 10.0, 4.0, 2, 6, 2, "hexahedron")
    r = np.array([2.0, 4.0, 7.5, 9.0, 12.0])
    t = np.full_like(r, np.pi / 8)
    pts = np.stack([r * np.cos(t), r * np.sin(t), np.full_like(r, 2.0)], axis=1)
    loc = locate_points(mesh, pts)
    assert loc.inside.tolist() == [False, False, True, True, False]


def test_fallback_finds_points_missed_by_the_nearest_cells(monkeypatch):
    monkeypatch.setattr(locate, "_FIRST_K", 1)
    monkeypatch.setattr(locate, "_SECOND_K", 1)
    mesh = distorted(box(tuple(SIZE), (3, 4, 5), "hexahedron"), 0.4, seed=7)
    locate._INDEX_CACHE.clear()
    pts = _inside_points(400, seed=2)
    loc = locate_points(mesh, pts)
    assert loc.inside.all()
    np.testing.assert_allclose(loc.interpolate(mesh.points), pts, atol=1e-10)


def _thin_far_mesh(cell_type: str, thickness: float, shift: float
                   ) -> tuple[Mesh, np.ndarray]:
    """A warped, rotated 2 x 2 mm plate of 4 x 4 x 4 cells each ``thickness`` mm thick, moved
    ``shift`` mm from the origin along (1, -1, 1), and 2000 random points inside it (the warp
    is bilinear in the cells' axes, so the cells reproduce it exactly)."""
    rot = np.array([[0.6, -0.64, 0.48], [0.8, 0.48, -0.36], [0.0, 0.6, 0.8]])

    def warp(p):
        q = p.copy()
        q[:, 2] += 0.1 * thickness * p[:, 0] * p[:, 1]
        q[:, 0] += 0.1 * p[:, 1] * p[:, 2] / thickness
        return q @ rot.T + shift

    mesh = box((2.0, 2.0, 4 * thickness), (4, 4, 4), cell_type)
    pts = np.random.default_rng(0).uniform(0, 1, (2000, 3)) * [2.0, 2.0, 4 * thickness]
    return Mesh(warp(mesh.points), mesh.blocks, mesh.region_names, mesh.node_sets), warp(pts)


@pytest.mark.parametrize("cell_type", ["tetra10", "hexahedron"])
@pytest.mark.parametrize("thickness, shift", [(0.1, 100.0), (0.04, 300.0), (5e-4, 0.0)])
def test_points_in_thin_cells_far_from_the_origin_are_found(cell_type, thickness, shift):
    """The Newton iteration of the curved cells converges to its rounding floor, not to a
    fixed step: the floor grows with the distance of the coordinates from the origin and with
    the flatness of the cell. Screw nodes in the 0.1 mm-thin hex8 cells of an L2 pedicle
    110 mm from the origin (L2-L5 at resolution 4) stalled at steps 1.1e-13-1.8e-13, above
    the fixed 1e-13, and 3 of 296 were reported outside every cell; here, before the fix,
    180-1197 of the 2000 points were lost per case."""
    mesh, pts = _thin_far_mesh(cell_type, thickness, shift * np.array([1.0, -1.0, 1.0]))
    locate._INDEX_CACHE.clear()
    loc = locate_points(mesh, pts)
    assert loc.inside.all(), f"{(~loc.inside).sum()} of {len(pts)} points not found"
    np.testing.assert_allclose(loc.interpolate(mesh.points), pts, rtol=0, atol=1e-9)
    # points far outside stay outside
    far = locate_points(mesh, pts[:5] + 10.0)
    assert not far.inside.any()


def test_nearest_node_distance_measures_how_far_outside_a_point_lies():
    mesh = box((2.0, 2.0, 2.0), (2, 2, 2), "hexahedron")
    d = locate.nearest_node_distance(mesh, [[1.0, 1.0, 5.0], [3.0, 4.0, 2.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(d, [3.0, np.hypot(1.0, 2.0), 0.0], atol=1e-12)


def test_mixed_blocks_give_block_and_local_indices_with_padding():
    hexes = box((1.0, 1.0, 1.0), (2, 2, 2), "hexahedron")
    tets = box((1.0, 1.0, 1.0), (2, 2, 2), "tetra", origin=(1.0, 0.0, 0.0))
    points = np.vstack([hexes.points, tets.points])
    blocks = (CellBlock("hexahedron", hexes.blocks[0].cells, 1),
              CellBlock("tetra", tets.blocks[0].cells + len(hexes.points), 2))
    mesh = Mesh(points, blocks)
    pts = np.array([[0.3, 0.4, 0.6], [1.7, 0.2, 0.9]])
    loc = locate_points(mesh, pts)
    assert loc.inside.all()
    assert loc.block.tolist() == [0, 1]
    assert loc.cell[1] == len(hexes.blocks[0].cells) + loc.local[1]
    assert loc.nodes.shape == (2, 8)
    assert np.all(loc.nodes[1, 4:] == -1) and np.all(loc.N[1, 4:] == 0.0)
    np.testing.assert_allclose(loc.interpolate(mesh.points), pts, atol=1e-12)


def test_require_inside_passes_when_all_points_are_inside():
    mesh = box(cell_type="tetra")
    require_inside(locate_points(mesh, [[0.5, 0.5, 0.5]]))


def test_require_inside_names_outside_points_by_label():
    mesh = box(cell_type="hexahedron")
    pts = np.array([[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, -2.0, 0.5]])
    labels = [f"screw L4-left node {i}" for i in range(len(pts))]
    loc = locate_points(mesh, pts)
    with pytest.raises(MeshError) as err:
        require_inside(loc, labels, what="screw node")
    msg = str(err.value)
    assert "2 of 4 screw nodes" in msg
    assert "screw L4-left node 1" in msg and "screw L4-left node 3" in msg
    assert "screw L4-left node 0" not in msg and "screw L4-left node 2" not in msg
    assert "(1.5, 0.5, 0.5)" in msg


def test_require_inside_gives_distances_and_the_hint_when_asked():
    mesh = box(cell_type="hexahedron")
    loc = locate_points(mesh, [[0.5, 0.5, 0.5], [0.0, 0.0, 3.0]])
    with pytest.raises(MeshError) as err:
        require_inside(loc, what="screw node", mesh=mesh, hint="Use a shorter screw.")
    msg = str(err.value)
    assert "1 of 2 screw nodes" in msg
    assert "(0, 0, 3) mm, 2 mm from the nearest mesh node" in msg
    assert msg.endswith("\nUse a shorter screw.")


def test_require_inside_lists_at_most_ten_points_and_the_count():
    mesh = box(cell_type="tetra")
    pts = np.column_stack([np.linspace(2, 3, 25), np.zeros(25), np.zeros(25)])
    with pytest.raises(MeshError, match=r"25 of 25 points[\s\S]*and 15 more"):
        require_inside(locate_points(mesh, pts))


def test_bad_query_shape_is_rejected():
    with pytest.raises(MeshError, match="shape"):
        locate_points(box(), np.zeros((4, 2)))


def test_location_is_frozen():
    loc = locate_points(box(), [[0.5, 0.5, 0.5]])
    assert isinstance(loc, Location)
    with pytest.raises(AttributeError):
        loc.cell = np.array([3])  # type: ignore[misc]
