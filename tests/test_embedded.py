"""Embedded interface springs: a 6-DOF node tied to the material point of its host element."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.fem.constraints import Support
from spinesim.fem.dofs import DofLayout
from spinesim.fem.embedded import (coupling_matrices, relative_displacement,
                                   split_axial_normal, spring_tensors)
from spinesim.fem.static import LinearElasticModel
from spinesim.fem.system import ElementSet
from spinesim.mesh.generate import box, distorted
from spinesim.mesh.locate import locate_points


@pytest.mark.parametrize("cell_type", ["tetra", "hexahedron", "tetra10"])
def test_rigid_motion_of_node_and_host_gives_no_spring_force(cell_type):
    """A node tied through a rigid arm (lever) to the host's material point at the arm's end:
    a rigid motion of node and host stretches no spring; the matrices are symmetric."""
    mesh = distorted(box((2, 2, 2), (2, 2, 2), cell_type), 0.2, seed=5)
    x = np.array([[0.7, 1.1, 0.9], [1.3, 0.4, 1.6]])  # the nodes
    lever = np.array([[0.0, 0.0, 0.0], [-0.2, 0.3, -0.1]])
    loc = locate_points(mesh, x + lever)
    axis = np.array([[0, 0, 1.0], [1.0, 1.0, 0]])
    S = spring_tensors(axis, [50.0, 20.0], [200.0, 80.0])
    nen = loc.N.shape[1]
    K = coupling_matrices(loc.N, np.zeros((2, nen, 3)), lever, axis, S, [0.0, 0.0])
    # a small rigid motion (translation + rotation) of node and host
    theta, c = np.array([1e-3, -2e-3, 5e-4]), np.array([0.1, -0.2, 0.05])
    u = lambda p: c + np.cross(theta, p)  # noqa: E731
    for p in range(len(x)):
        nodes = loc.nodes[p][loc.nodes[p] >= 0]
        ue = np.concatenate([u(x[p]), theta, u(mesh.points[nodes]).ravel()])
        k = K[p][: 6 + 3 * len(nodes), : 6 + 3 * len(nodes)]
        assert np.abs(k @ ue).max() < 1e-12 * np.abs(k).max()
        assert np.abs(k - k.T).max() == 0.0
        d = relative_displacement(ue[None, :3], u(mesh.points[nodes])[None], loc.N[p:p + 1,
                                  :len(nodes)], theta[None], lever[p:p + 1])
        assert np.abs(d).max() < 1e-15


def test_spring_splits_axial_and_normal_stiffness():
    S = spring_tensors(np.array([[0.0, 0.0, 2.0]]), [10.0], [3.0])[0]
    assert np.allclose(S @ [0, 0, 1.0], [0, 0, 10.0]) and np.allclose(S @ [1.0, 0, 0], [3.0, 0, 0])
    a, n = split_axial_normal(np.array([[3.0, 4.0, 2.0]]), np.array([[0, 0, 1.0]]))
    assert a[0] == pytest.approx(2.0) and n[0] == pytest.approx(5.0)


def test_node_pulled_against_embedded_springs_moves_by_force_over_stiffness():
    """A node at the centre of a very stiff, fixed block, pulled along z: the block barely
    moves, so the node's displacement is F / k_axial and its micromotion is the same."""
    mesh = box((2, 2, 2), (2, 2, 2), "hexahedron")
    x = np.array([[1.0, 1.0, 1.0]])
    loc = locate_points(mesh, x)
    layout = DofLayout(mesh.n_nodes, 1)
    host = loc.nodes[0]
    dofs = np.concatenate([layout.dofs([mesh.n_nodes], range(6)).ravel(),
                           layout.dofs(host, (0, 1, 2)).ravel()])[None]
    axis = np.array([[0, 0, 1.0]])
    S = spring_tensors(axis, [25.0], [100.0])
    K = coupling_matrices(loc.N, np.zeros((1, len(host), 3)), np.zeros((1, 3)), axis, S, [0.0])
    model = LinearElasticModel(
        mesh, 1e7, 0.3, supports=[Support(np.arange(mesh.n_nodes)),
                                   Support([mesh.n_nodes], (3, 4, 5))],
        extra_points=x, element_sets=[ElementSet("tie", dofs)],
        element_values={"tie": K}, solver="direct")
    sol = model.solve(node_loads=[[0, 0, 5.0, 0, 0, 0]])
    assert sol.node_dofs[0, 2] == pytest.approx(5.0 / 25.0, rel=1e-12)
    d = relative_displacement(sol.node_dofs[:, :3], sol.displacement[host][None], loc.N)
    assert d[0] == pytest.approx([0, 0, 0.2], abs=1e-12)


def test_torsion_spring_is_free_in_rigid_rotation_and_resists_relative_twist():
    from spinesim.fem.elements import reference
    from spinesim.fem.embedded import coupling_matrices, curl_twist_coefficients

    mesh = distorted(box((2, 2, 2), (2, 2, 2), "hexahedron"), 0.2, seed=6)
    x = np.array([[0.8, 1.2, 1.1]])
    loc = locate_points(mesh, x)
    blk = mesh.solid_blocks[0]
    dN = reference("hexahedron").grad(loc.xi)
    X = mesh.points[blk.cells[loc.local]]
    J = np.einsum("qkd,qkr->qdr", X, dN)
    gradN = np.einsum("qkr,qrd->qkd", dN, np.linalg.inv(J))
    t = np.array([[0.0, 0.6, 0.8]])
    K = coupling_matrices(loc.N, curl_twist_coefficients(gradN, t), np.zeros((1, 3)), t,
                          np.zeros((1, 3, 3)), [30.0])[0]
    theta = np.array([2e-3, -1e-3, 4e-3])
    host_u = np.cross(theta, mesh.points[loc.nodes[0]])  # rigid rotation of the host
    rigid = np.concatenate([np.cross(theta, x[0]), theta, host_u.ravel()])
    assert np.abs(K @ rigid).max() < 1e-12 * np.abs(K).max()
    twist = np.concatenate([np.zeros(3), 0.01 * t[0], np.zeros(3 * 8)])  # host at rest
    assert twist @ K @ twist == pytest.approx(30.0 * 0.01**2, rel=1e-12)
