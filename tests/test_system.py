"""The global system: solid stiffness plus element sets over 3- and 6-DOF nodes."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.fem import Assembler
from spinesim.fem.constraints import Support
from spinesim.fem.dofs import DofLayout
from spinesim.fem.static import LinearElasticModel
from spinesim.fem.system import ElementSet, SystemAssembler
from spinesim.mesh.generate import box


def _spring(k: float) -> np.ndarray:
    """3-D spring between two 3-DOF points: [[kI, -kI], [-kI, kI]]."""
    return np.kron(np.array([[1.0, -1.0], [-1.0, 1.0]]), k * np.eye(3))[None]


def test_element_sets_add_into_one_pattern_and_refill_in_place():
    mesh = box((1, 1, 1), (2, 2, 2), "hexahedron")
    layout = DofLayout(mesh.n_nodes, 1)
    node = 13  # a mesh node, tied to the 6-DOF node's translations
    dofs = np.concatenate([layout.dofs([node], (0, 1, 2)), layout.dofs([mesh.n_nodes], (0, 1, 2))],
                          axis=1)
    asm = Assembler(mesh)
    system = SystemAssembler(asm, layout, [ElementSet("tie", dofs)])
    K = system.assemble(asm.material(100.0, 0.3), tie=_spring(50.0))
    dense = K.toarray()[np.ix_(system.dof_rank, system.dof_rank)]  # back to model DOF order
    expected = np.zeros_like(dense)
    ns = 3 * mesh.n_nodes
    expected[:ns, :ns] = asm.to_user().toarray()
    d = dofs[0]
    expected[np.ix_(d, d)] += _spring(50.0)[0]
    assert np.abs(dense - expected).max() < 1e-12 * np.abs(expected).max()
    data_id = id(K.data)
    K2 = system.assemble(tie=_spring(5.0))
    assert K2 is K and id(K2.data) == data_id


def test_a_node_hung_on_a_spring_moves_by_force_over_stiffness():
    mesh = box((1, 1, 1), (2, 2, 2), "hexahedron")
    layout = DofLayout(mesh.n_nodes, 1)
    top = mesh.node_sets["zmax"][0]
    dofs = np.concatenate([layout.dofs([top], (0, 1, 2)), layout.dofs([mesh.n_nodes], (0, 1, 2))],
                          axis=1)
    ref = mesh.n_nodes
    model = LinearElasticModel(
        mesh, 1e6, 0.3, supports=[Support(mesh.node_sets["zmin"]), Support([ref], (3, 4, 5))],
        extra_points=[mesh.points[top] + [0, 0, 1.0]], element_sets=[ElementSet("spring", dofs)],
        element_values={"spring": _spring(20.0)}, solver="direct")
    sol = model.solve(node_loads=[[0, 0, 4.0, 0, 0, 0]])
    # spring in series with a much stiffer block
    assert sol.node_dofs[0, 2] == pytest.approx(4.0 / 20.0, rel=1e-3)
    model.set_elements(spring=_spring(40.0))
    sol = model.solve(node_loads=[[0, 0, 4.0, 0, 0, 0]])
    assert sol.node_dofs[0, 2] == pytest.approx(4.0 / 40.0, rel=1e-3)
    assert np.allclose(sol.reactions.sum(axis=0), [0, 0, -4.0], atol=1e-9)


def test_refills_without_a_solve_in_between_cost_one_solver_set_up():
    """The solver follows the matrix at the next solve: a model built and then given other
    moduli twice (a timeline's day-0 state) factorizes once, for the values it solves."""
    mesh = box((1, 1, 1), (2, 2, 2), "hexahedron")
    model = LinearElasticModel(mesh, 1e3, 0.3, supports=[Support(mesh.node_sets["zmin"])],
                               solver="direct")
    model.set_material(2e3, 0.3)
    model.set_material(4e3, 0.3)
    f = np.zeros((mesh.n_nodes, 3))
    f[mesh.node_sets["zmax"], 2] = 1.0
    u4 = model.solve(f).displacement
    assert model._solver.info.n_setups == 1
    model.set_material(1e3, 0.3)
    u1 = model.solve(f).displacement
    assert model._solver.info.n_setups == 2
    assert np.allclose(u1, 4.0 * u4, rtol=1e-9)  # linear in 1/E: the latest values were solved
