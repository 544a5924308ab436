"""Patch tests: fields the element space contains are reproduced to round-off."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import boundary_nodes

from spinesim.fem.constraints import Support
from spinesim.fem.loads import body_force
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box, distorted

E, NU = 2000.0, 0.3
A = np.array([[1.0, 0.2, -0.3], [0.4, -0.5, 0.1], [0.25, 0.3, 0.7]]) * 1e-3
C0 = np.array([0.01, -0.02, 0.03])


def _solve_with_boundary(mesh, exact, forces=None):
    nodes = boundary_nodes(mesh)
    support = Support(nodes, (0, 1, 2), exact(mesh.points[nodes]))
    model = LinearElasticModel(mesh, E, NU, supports=[support], solver="direct")
    return model.solve(forces)


@pytest.mark.parametrize("cell_type", ["tetra", "tetra10", "hexahedron"])
def test_linear_field_is_reproduced_on_distorted_mesh(cell_type):
    mesh = distorted(box((2.0, 1.5, 1.0), (4, 3, 3), cell_type), 0.3, seed=1)
    exact = lambda x: x @ A.T + C0  # noqa: E731
    sol = _solve_with_boundary(mesh, exact)
    err = np.abs(sol.displacement - exact(mesh.points)).max()
    assert err < 1e-10 * np.abs(exact(mesh.points)).max()


def test_quadratic_field_is_reproduced_by_tet10():
    mesh = distorted(box((1.0, 1.0, 1.0), (3, 3, 3), "tetra10"), 0.25, seed=2)
    lam = E * NU / ((1 + NU) * (1 - 2 * NU))
    mu = E / (2 * (1 + NU))
    a = 1e-3

    def exact(x):
        return a * np.stack([x[:, 0] ** 2, x[:, 1] * x[:, 2], x[:, 0] * x[:, 1]], axis=1)

    # div sigma for u = a (x^2, yz, xy): grad div u = a(2, 0, 1); laplacian u = a(2, 0, 0)
    div_sigma = (lam + mu) * a * np.array([2.0, 0.0, 1.0]) + mu * a * np.array([2.0, 0.0, 0.0])
    sol = _solve_with_boundary(mesh, exact, body_force(mesh, -div_sigma))
    err = np.abs(sol.displacement - exact(mesh.points)).max()
    assert err < 1e-10 * np.abs(exact(mesh.points)).max()


def test_tet4_does_not_reproduce_a_quadratic_field():
    """The same quadratic test must fail for tet4: the check above can fail."""
    mesh = distorted(box((1.0, 1.0, 1.0), (3, 3, 3), "tetra"), 0.25, seed=2)
    exact = lambda x: 1e-3 * np.stack([x[:, 0] ** 2, x[:, 1] * x[:, 2], x[:, 0] * x[:, 1]], axis=1)  # noqa: E731
    sol = _solve_with_boundary(mesh, exact)
    assert np.abs(sol.displacement - exact(mesh.points)).max() > 1e-6
