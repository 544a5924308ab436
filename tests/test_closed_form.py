"""Closed-form checks: Timoshenko cantilever, Lame thick-walled cylinder, convergence rates."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import record

from spinesim.fem.constraints import Support
from spinesim.fem.elements import gauss_legendre_box, reference, tet_rule
from spinesim.fem.loads import surface_load
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.facets import boundary_facets
from spinesim.mesh.generate import box, hollow_cylinder

# ------------------------------------------------------------------ cantilever
L, H, B, E_BEAM, P = 10.0, 1.0, 1.0, 1000.0, 1.0


def timoshenko_tip(nu: float) -> float:
    """Tip deflection (mm) of a cantilever with an end shear load, rectangular section,
    Cowper's shear coefficient 10(1+nu)/(12+11nu)."""
    G = E_BEAM / (2 * (1 + nu))
    k = 10 * (1 + nu) / (12 + 11 * nu)
    return P * L**3 / (3 * E_BEAM * B * H**3 / 12) + P * L / (k * G * B * H)


def cantilever_tip(cell_type: str, n: tuple[int, int, int], bbar: bool, nu: float = 0.0,
                   solver: str = "direct") -> float:
    mesh = box((L, B, H), n, cell_type)
    model = LinearElasticModel(mesh, E_BEAM, nu, supports=[Support(mesh.node_sets["xmin"])],
                               bbar=bbar, solver=solver)
    tip = boundary_facets(mesh, mesh.node_sets["xmax"])
    sol = model.solve(surface_load(mesh, tip, traction=[0.0, 0.0, -P / (B * H)]))
    return -float(sol.displacement[mesh.node_sets["xmax"], 2].mean())


@pytest.mark.parametrize("cell_type,n,bbar", [
    ("tetra10", (40, 4, 4), False),
    ("hexahedron", (80, 8, 8), False),
    ("hexahedron", (80, 8, 8), True),
])
def test_cantilever_tip_deflection_matches_timoshenko_within_1_percent(cell_type, n, bbar):
    # nu = 0: the clamped end then adds no Poisson restraint that beam theory ignores
    ratio = cantilever_tip(cell_type, n, bbar) / timoshenko_tip(0.0)
    record(f"cantilever {cell_type} {n} bbar={bbar}: tip / Timoshenko = {ratio:.5f}")
    assert abs(ratio - 1) < 0.01


@pytest.mark.slow
def test_tet4_cantilever_converges_to_timoshenko_at_second_order():
    """tet4 is too stiff in bending to be within 1% at a test-sized mesh (0.987 at 245k cells);
    its observed order over three meshes and the Richardson-extrapolated limit are checked."""
    r = [cantilever_tip("tetra", (40 * k, 4 * k, 4 * k), False, solver="amg") / timoshenko_tip(0.0)
         for k in (1, 2, 4)]
    order = np.log((r[1] - r[0]) / (r[2] - r[1])) / np.log(2)
    limit = r[2] + (r[2] - r[1]) / (2**order - 1)
    record(f"cantilever tetra (40..160 x 4..16 x 4..16): tip / Timoshenko = "
           f"{', '.join(f'{v:.4f}' for v in r)}; observed order {order:.2f}; "
           f"Richardson limit {limit:.4f}")
    assert abs(order - 2) < 0.3
    assert abs(limit - 1) < 0.01


def test_bbar_removes_volumetric_locking_in_bending():
    nu = 0.4999
    exact = timoshenko_tip(nu)
    full = cantilever_tip("hexahedron", (40, 4, 4), False, nu) / exact
    bbar = cantilever_tip("hexahedron", (40, 4, 4), True, nu) / exact
    record(f"cantilever hex8 nu=0.4999 (40,4,4): full {full:.3f}, B-bar {bbar:.3f} of Timoshenko")
    assert full < 0.5  # locks
    assert abs(bbar - 1) < 0.05
    full10 = cantilever_tip("tetra10", (40, 4, 4), False, nu) / exact
    bbar10 = cantilever_tip("tetra10", (40, 4, 4), True, nu) / exact
    record(f"cantilever tet10 nu=0.4999 (40,4,4): full {full10:.3f}, B-bar {bbar10:.3f} of "
           "Timoshenko")
    assert abs(bbar10 - 1) < abs(full10 - 1)  # mean dilatation relieves tet10's milder locking
    assert abs(bbar10 - 1) < 0.05


# ------------------------------------------------------------------ Lame cylinder
A_IN, B_OUT, P_IN, E_CYL, NU_CYL = 5.0, 10.0, 1.0, 1000.0, 0.3


def lame_displacement(x: np.ndarray) -> np.ndarray:
    """Plane-strain radial displacement field (mm) of a thick cylinder under internal pressure."""
    r = np.hypot(x[..., 0], x[..., 1])
    c = P_IN * A_IN**2 * (1 + NU_CYL) / (E_CYL * (B_OUT**2 - A_IN**2))
    ur = c * ((1 - 2 * NU_CYL) * r + B_OUT**2 / r)
    out = np.zeros(x.shape)
    out[..., 0] = ur * x[..., 0] / r
    out[..., 1] = ur * x[..., 1] / r
    return out


def solve_lame(cell_type: str, n_r: int):
    mesh = hollow_cylinder(A_IN, B_OUT, 1.0, n_r, 2 * n_r, 1, cell_type)
    supports = [Support(mesh.node_sets["theta0"], (1,)), Support(mesh.node_sets["theta1"], (0,)),
                Support(np.arange(mesh.n_nodes), (2,))]  # plane strain
    model = LinearElasticModel(mesh, E_CYL, NU_CYL, supports=supports, solver="direct")
    sol = model.solve(surface_load(mesh, "inner_surface", pressure=P_IN))
    return mesh, sol.displacement


def l2_error(mesh, u: np.ndarray) -> float:
    """Relative L2 norm of u - u_exact over the solid, with an accurate quadrature."""
    blk = mesh.solid_blocks[0]
    ref = reference(blk.type)
    pts, w = gauss_legendre_box(5, 3) if blk.type == "hexahedron" else tet_rule(8)
    N, dN = ref.shape(pts), ref.grad(pts)
    X = mesh.points[blk.cells]
    detJ = np.linalg.det(np.einsum("qkr,ekd->eqdr", dN, X))
    xq = np.einsum("qk,ekd->eqd", N, X)
    uh = np.einsum("qk,ekd->eqd", N, u[blk.cells])
    ue = lame_displacement(xq)
    dv = detJ * w
    return float(np.sqrt(np.sum(dv * np.sum((uh - ue) ** 2, -1)) / np.sum(dv * np.sum(ue**2, -1))))


@pytest.mark.parametrize("cell_type,n_r", [("tetra", 16), ("tetra10", 8), ("hexahedron", 8)])
def test_lame_cylinder_radial_displacement_within_1_percent(cell_type, n_r):
    mesh, u = solve_lame(cell_type, n_r)
    inner = mesh.node_sets["inner"]
    ur = np.hypot(u[inner, 0], u[inner, 1])
    exact = np.hypot(*lame_displacement(mesh.points[inner])[:, :2].T)
    err = float(np.abs(ur / exact - 1).max())
    record(f"Lame {cell_type} n_r={n_r}: max relative error of inner u_r = {err:.2e}")
    assert err < 0.01


@pytest.mark.parametrize("cell_type,expected_rate", [("tetra", 2.0), ("hexahedron", 2.0),
                                                     ("tetra10", 3.0)])
def test_displacement_l2_error_converges_at_the_expected_rate(cell_type, expected_rate):
    levels = (2, 4, 8)
    errs = [l2_error(*solve_lame(cell_type, n)) for n in levels]
    rates = [np.log(errs[i] / errs[i + 1]) / np.log(2) for i in range(len(errs) - 1)]
    record(f"Lame {cell_type}: L2 errors {', '.join(f'{e:.2e}' for e in errs)}; "
           f"rates {', '.join(f'{r:.2f}' for r in rates)} (expected ~{expected_rate:.0f})")
    assert abs(rates[-1] - expected_rate) < 0.3
