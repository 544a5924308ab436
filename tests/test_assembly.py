"""Properties of the assembled stiffness: symmetry, rigid-body modes, definiteness, refill,
thread and node-order independence, anisotropic materials."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spinesim.errors import MaterialError, MeshError
from spinesim.fem import Assembler, TransverselyIsotropic, stiffness_matrix
from spinesim.fem.solvers import rigid_body_modes as rigid_modes
from spinesim.mesh.generate import box, distorted
from spinesim.mesh.mesh import CellBlock, Mesh

CELL_TYPES = ["tetra", "tetra10", "hexahedron"]


def small_mesh(cell_type: str, seed: int = 0) -> Mesh:
    return distorted(box((1.0, 1.3, 0.8), (2, 3, 2), cell_type), 0.25, seed=seed)


@pytest.mark.parametrize("cell_type", CELL_TYPES)
@pytest.mark.parametrize("bbar", [False, True])
def test_stiffness_is_symmetric_psd_with_exactly_six_rigid_modes(cell_type, bbar):
    mesh = small_mesh(cell_type)
    E = np.linspace(500.0, 1500.0, mesh.n_solid_cells)
    K = stiffness_matrix(mesh, E, 0.3, bbar=bbar).toarray()
    scale = np.abs(K).max()
    assert np.abs(K - K.T).max() < 1e-13 * scale
    assert np.abs(K @ rigid_modes(mesh.points)).max() < 1e-12 * scale
    eig = np.linalg.eigvalsh(K)
    assert eig[0] > -1e-10 * scale
    assert np.sum(eig < 1e-9 * scale) == 6


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_refill_equals_fresh_assembly(cell_type):
    mesh = small_mesh(cell_type)
    rng = np.random.default_rng(3)
    E1, E2 = rng.uniform(100, 1000, (2, mesh.n_solid_cells))
    asm = Assembler(mesh)
    K = asm.assemble(E1, 0.2)
    data_before = K.data.copy()
    K2 = asm.assemble(E2, 0.35)
    assert K2 is K  # values refilled in place
    fresh = Assembler(mesh).assemble(E2, 0.35)
    assert np.array_equal(fresh.indices, K2.indices)
    assert np.abs(fresh.data - K2.data).max() <= 1e-14 * np.abs(fresh.data).max()
    assert np.abs(data_before - K2.data).max() > 1e-3 * np.abs(data_before).max()


@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_refill_of_a_few_cells_equals_fresh_assembly(cell_type, n_threads):
    """A refill that changes a few cells' moduli (a healing graft) assembles only those cells
    and adds the difference; over many such refills, each with other cells and moduli over
    five orders of magnitude, the matrix stays the fresh assembly's."""
    from spinesim.fem import assembler as assembler_module

    mesh = small_mesh(cell_type)
    n = mesh.n_solid_cells
    rng = np.random.default_rng(5)
    E, nu = rng.uniform(100, 1000, n), np.full(n, 0.3)
    asm = Assembler(mesh, n_threads=n_threads)
    K = asm.assemble(E, nu)
    few = max(1, int(assembler_module.INCREMENTAL_FRACTION * n) // 2)
    for _ in range(20):
        cells = rng.choice(n, few, replace=False)
        E[cells] = 10.0 ** rng.uniform(-1.0, 4.0, few)
        nu[cells] = rng.uniform(0.1, 0.45, few)
        assert asm.assemble(E, nu) is K
    fresh = Assembler(mesh).assemble(E, nu)
    assert np.array_equal(fresh.indices, K.indices)
    assert np.abs(fresh.data - K.data).max() <= 1e-13 * np.abs(fresh.data).max()
    assert asm.assemble(E.copy(), nu.copy()) is K  # nothing changed: nothing to do
    assert np.abs(fresh.data - K.data).max() <= 1e-13 * np.abs(fresh.data).max()


def test_refill_of_a_few_cells_of_an_inverted_mesh_is_refused():
    mesh = small_mesh("hexahedron")
    asm = Assembler(mesh)
    asm.assemble(100.0, 0.3)
    asm.points[asm.blocks[0].cells[0, 0]] += 50.0  # one cell turned inside out
    E = np.full(mesh.n_solid_cells, 100.0)
    E[asm.blocks[0].cell_ids[0]] = 200.0
    with pytest.raises(MeshError, match="non-positive Jacobian|inverted"):
        asm.assemble(E, 0.3)


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_matrix_does_not_depend_on_thread_partition(cell_type):
    mesh = small_mesh(cell_type)
    K1 = Assembler(mesh, n_threads=1).assemble(700.0, 0.3)
    K5 = Assembler(mesh, n_threads=5).assemble(700.0, 0.3)
    assert np.abs((K1 - K5).toarray()).max() < 1e-13 * np.abs(K1.data).max()


def test_stiffness_matrix_follows_the_files_node_order():
    mesh = small_mesh("tetra10")
    rng = np.random.default_rng(7)
    perm = rng.permutation(mesh.n_nodes)  # new id of old node i is perm[i]
    pts = np.empty_like(mesh.points)
    pts[perm] = mesh.points
    blk = mesh.solid_blocks[0]
    shuffled = Mesh(pts, (CellBlock(blk.type, perm[blk.cells], blk.region),))
    K = stiffness_matrix(mesh, 900.0, 0.25)
    Ks = stiffness_matrix(shuffled, 900.0, 0.25)
    dof = (3 * perm[:, None] + np.arange(3)).ravel()
    assert np.abs((Ks[dof][:, dof] - K).toarray()).max() < 1e-13 * np.abs(K.data).max()


def test_tet4_hot_path_matches_the_generic_kernel():
    mesh = small_mesh("tetra")
    E = np.linspace(200.0, 900.0, mesh.n_solid_cells)
    asm = Assembler(mesh)
    fast = asm.assemble(E, 0.3).copy()
    # a transversely isotropic law with isotropic constants takes the generic, rotated path
    G = E / (2 * 1.3)
    ti = TransverselyIsotropic.of(E, E, 0.3, 0.3, G, [0.3, -0.5, 0.8], mesh.n_solid_cells)
    generic = asm.assemble(ti)
    assert np.abs((fast - generic).toarray()).max() < 1e-12 * np.abs(fast.data).max()


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_transversely_isotropic_stiffness_rotates_with_mesh_and_axis(cell_type):
    mesh = small_mesh(cell_type, seed=4)
    n = mesh.n_solid_cells
    axis = np.array([0.0, 0.2, 1.0])
    mat = TransverselyIsotropic.of(300.0, 100.0, 0.3, 0.2, 60.0, axis, n)
    K = stiffness_matrix(mesh, mat).toarray()
    # rotate mesh and axis by R: K' = Rb K Rb^T
    c, s = np.cos(0.7), np.sin(0.7)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    rot = Mesh(mesh.points @ R.T, mesh.blocks, mesh.region_names)
    Kr = stiffness_matrix(rot, TransverselyIsotropic.of(300.0, 100.0, 0.3, 0.2, 60.0,
                                                        R @ axis, n)).toarray()
    Rb = sp.block_diag([R] * mesh.n_nodes).toarray()
    assert np.abs(Kr - Rb @ K @ Rb.T).max() < 1e-11 * np.abs(K).max()
    # and it is really anisotropic: differs from isotropic of either modulus
    Kiso = stiffness_matrix(mesh, 300.0, 0.3).toarray()
    assert np.abs(K - Kiso).max() > 0.1 * np.abs(Kiso).max()


def test_transversely_isotropic_uniaxial_response():
    """A bar loaded along the axis stretches by sigma/E_axial and contracts by nu_axial."""
    from spinesim.fem.constraints import Support
    from spinesim.fem.loads import surface_load
    from spinesim.fem.static import LinearElasticModel
    from spinesim.mesh.facets import boundary_facets

    mesh = box((1.0, 1.0, 2.0), (2, 2, 4), "hexahedron")
    Ea, Et, nua = 300.0, 100.0, 0.25
    mat = TransverselyIsotropic.of(Ea, Et, 0.35, nua, 50.0, [0, 0, 1.0], mesh.n_solid_cells)
    ns = mesh.node_sets
    sup = [Support(ns["zmin"], (2,)), Support(ns["xmin"], (0,)), Support(ns["ymin"], (1,))]
    model = LinearElasticModel(mesh, mat, supports=sup, solver="direct")
    sol = model.solve(surface_load(mesh, boundary_facets(mesh, ns["zmax"]), traction=[0, 0, 3.0]))
    u = sol.displacement
    assert np.allclose(u[ns["zmax"], 2], 3.0 / Ea * 2.0, rtol=1e-10)
    assert np.allclose(u[ns["xmax"], 0], -nua * 3.0 / Ea * 1.0, rtol=1e-10)


def test_bad_materials_name_the_cells():
    mesh = small_mesh("tetra")
    E = np.full(mesh.n_solid_cells, 100.0)
    E[5] = -1.0
    with pytest.raises(MaterialError, match="cell 5"):
        stiffness_matrix(mesh, E, 0.3)
    with pytest.raises(MaterialError, match="nu"):
        stiffness_matrix(mesh, 100.0, 0.5)
    with pytest.raises(MaterialError, match="one value per solid cell"):
        stiffness_matrix(mesh, np.ones(3), 0.3)


def test_inverted_element_is_refused_by_the_assembler():
    mesh = small_mesh("tetra")
    blk = mesh.solid_blocks[0]
    cells = blk.cells.copy()
    cells[2, [0, 1]] = cells[2, [1, 0]]
    bad = Mesh(mesh.points, (CellBlock("tetra", cells, blk.region),))
    with pytest.raises(MeshError, match="2"):
        Assembler(bad).assemble(100.0, 0.3)
