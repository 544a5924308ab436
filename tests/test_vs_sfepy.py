"""spinesim's FE core against the peer codes sfepy and scikit-fem (test dependencies: a missing
peer is an error, not a skip)."""

from __future__ import annotations

import numpy as np
import pytest
import sfepy  # noqa: F401  (test dependency: fail loudly if missing)
import skfem  # noqa: F401

from spinesim.fem import Assembler, stiffness_matrix
from spinesim.fem.constraints import Support
from spinesim.fem.static import LinearElasticModel
from spinesim.fem.peers import (SfepyAssembly, SkfemAssembly, max_rel_diff, sfepy_solve,
                                sfepy_stiffness, skfem_stiffness)
from spinesim.mesh.generate import box, distorted
from spinesim.mesh.mesh import Mesh

# sfepy's region/term parsers use pyparsing's deprecated camelCase API (third-party noise)
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")

CELL_TYPES = ["tetra", "hexahedron"]
#: skfem quadrature order giving spinesim's rule: 1-point for P1 tets, 2x2x2 Gauss for Q1 hexes
SKFEM_ORDER = {"tetra": 1, "hexahedron": 3}


def _mesh(cell_type: str) -> Mesh:
    return distorted(box((3.0, 1.0, 1.5), (4, 3, 3), cell_type), 0.25, seed=3)


def _moduli(mesh: Mesh, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = mesh.n_solid_cells
    return 1000.0 * (0.2 + rng.random(n)), 0.2 + 0.2 * rng.random(n)


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_stiffness_matches_sfepy(cell_type: str) -> None:
    mesh = _mesh(cell_type)
    E, nu = _moduli(mesh)
    K = stiffness_matrix(mesh, E, nu)
    assert max_rel_diff(K, sfepy_stiffness(mesh, E, nu)) < 1e-12


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_stiffness_matches_skfem(cell_type: str) -> None:
    mesh = _mesh(cell_type)
    E, nu = _moduli(mesh)
    K = stiffness_matrix(mesh, E, nu)
    assert max_rel_diff(K, skfem_stiffness(mesh, E, nu, SKFEM_ORDER[cell_type])) < 1e-12


def test_skfem_default_rule_is_exact_for_p1() -> None:
    mesh = _mesh("tetra")
    E, nu = _moduli(mesh)
    assert max_rel_diff(stiffness_matrix(mesh, E, nu), skfem_stiffness(mesh, E, nu)) < 1e-12


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_refill_matches_peers(cell_type: str) -> None:
    """Refilling with new moduli (spinesim in place, sfepy in place, skfem anew) agrees."""
    mesh = _mesh(cell_type)
    E1, nu1 = _moduli(mesh, 1)
    E2, nu2 = _moduli(mesh, 2)
    asm = Assembler(mesh)
    K = asm.assemble(E1, nu1)
    assert asm.assemble(E2, nu2) is K
    sf = SfepyAssembly(mesh).setup()
    Ks = sf.assemble(E1, nu1)
    assert sf.assemble(E2, nu2) is Ks
    sk = SkfemAssembly(mesh, SKFEM_ORDER[cell_type]).setup()
    sk.assemble(E1, nu1)
    K_user = asm.to_user(K)
    assert max_rel_diff(K_user, sf.to_user(Ks)) < 1e-12
    assert max_rel_diff(K_user, sk.to_user(sk.assemble(E2, nu2))) < 1e-12


def test_peer_orderings_are_user_orderings() -> None:
    """Rigid translations/rotations in user DOF order are in the null space of the peers' K."""
    mesh = _mesh("hexahedron")
    x = mesh.points
    modes = [np.tile(np.eye(3)[d], (mesh.n_nodes, 1)) for d in range(3)]
    modes.append(np.stack([-x[:, 1], x[:, 0], np.zeros(mesh.n_nodes)], axis=1))
    for K in (sfepy_stiffness(mesh, 500.0, 0.3), skfem_stiffness(mesh, 500.0, 0.3, 3)):
        for r in modes:
            assert np.abs(K @ r.ravel()).max() < 1e-9 * abs(K).max()


def _cantilever_loads(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    fixed = mesh.node_sets["xmin"]
    tip = mesh.node_sets["xmax"]
    forces = np.zeros((mesh.n_nodes, 3))
    forces[tip] = [0.5, -1.0, -2.0]  # N per node: tension + bending about two axes
    forces[tip[0]] += [0.0, 0.0, 3.0]  # and an uneven load
    return fixed, forces


@pytest.mark.parametrize("cell_type", CELL_TYPES)
@pytest.mark.parametrize("solver", ["direct", "amg"])
def test_cantilever_matches_sfepy_solve(cell_type: str, solver: str) -> None:
    mesh = _mesh(cell_type)
    E, nu = _moduli(mesh)
    fixed, forces = _cantilever_loads(mesh)
    model = LinearElasticModel(mesh, E, nu, supports=[Support(fixed)], solver=solver, rtol=1e-12)
    u = model.solve(forces).displacement
    u_sfepy = sfepy_solve(mesh, E, nu, fixed, forces)
    assert np.abs(u).max() > 0
    assert np.abs(u_sfepy[fixed]).max() == 0.0
    assert np.abs(u - u_sfepy).max() < 1e-8 * np.abs(u).max()
