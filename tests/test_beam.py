"""3D Timoshenko beam element (screws, rods): closed-form checks in a small dense assembly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import record

from spinesim.fem.beam import (
    beam_stiffness,
    default_v_ref,
    local_frames,
    section_results,
    surface_stresses,
)
from spinesim.fem.sections import CircularSection

E_TI, NU_TI = 110_000.0, 0.3          # Ti-6Al-4V (MPa, -)
G_TI = E_TI / (2.0 * (1.0 + NU_TI))
ROD = CircularSection(5.5)             # 5.5 mm rod
P = 50.0                               # N


def skew_rotation() -> np.ndarray:
    """A fixed rotation (Rodrigues, axis (1, 2, 3), angle 0.7 rad) to put problems off-axis."""
    k = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(0.7) * K + (1 - np.cos(0.7)) * K @ K


Q = skew_rotation()


# ----------------------------------------------------------------- tiny dense assembly
def assemble(nodes: np.ndarray, section: CircularSection, v_ref=None) -> np.ndarray:
    """Dense global stiffness of a chain of beams node i -> i+1."""
    conn = np.column_stack([np.arange(len(nodes) - 1), np.arange(1, len(nodes))])
    ke = beam_stiffness(nodes[conn[:, 0]], nodes[conn[:, 1]], E_TI, NU_TI, section.area,
                        section.inertia, section.polar, section.shear_coefficient(NU_TI),
                        v_ref)
    dofs = (6 * conn[:, :, None] + np.arange(6)).reshape(-1, 12)
    K = np.zeros((6 * len(nodes), 6 * len(nodes)))
    np.add.at(K, (dofs[:, :, None], dofs[:, None, :]), ke)
    return K


def solve_clamped(nodes: np.ndarray, section: CircularSection, tip_load: np.ndarray,
                  v_ref=None) -> np.ndarray:
    """Displacements (n_nodes, 6) with node 0 clamped and a 6-vector load on the last node."""
    K = assemble(nodes, section, v_ref)
    f = np.zeros(K.shape[0])
    f[-6:] = tip_load
    u = np.zeros_like(f)
    u[6:] = np.linalg.solve(K[6:, 6:], f[6:])
    return u.reshape(-1, 6)


def straight(length: float, n_el: int) -> np.ndarray:
    """Nodes of a straight beam along the skew axis Q e_x, starting off the origin."""
    s = np.linspace(0.0, length, n_el + 1)
    return np.array([3.0, -2.0, 7.0]) + s[:, None] * Q[:, 0]


def element_dofs(u: np.ndarray) -> np.ndarray:
    return np.hstack([u[:-1], u[1:]])


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# ----------------------------------------------------------------- sections
def test_circular_section_properties_and_cowper_coefficient():
    s = CircularSection(6.0, 2.0)
    assert s.area == pytest.approx(np.pi * (9 - 1))
    assert s.inertia == pytest.approx(np.pi * (81 - 1) / 4)
    assert s.polar == pytest.approx(np.pi * (81 - 1) / 2)
    assert s.section_modulus == pytest.approx(np.pi * 80 / 4 / 3)
    assert CircularSection(6.0).shear_coefficient(0.3) == pytest.approx(7.8 / 8.8, rel=1e-14)
    thin = CircularSection(6.0, 6.0 * (1 - 1e-9)).shear_coefficient(0.3)
    assert thin == pytest.approx(2 * 1.3 / (4 + 0.9), rel=1e-8)     # Cowper thin tube
    v = CircularSection([5.5, 6.0], [0.0, 3.0])
    assert v.area.shape == (2,) and v.shear_coefficient(0.3).shape == (2,)
    assert CircularSection(6.0).surface_shear_factor == pytest.approx(4 / 3)


# ----------------------------------------------------------------- straight cantilever
@pytest.mark.parametrize("n_el", [1, 10])
@pytest.mark.parametrize("plane", [1, 2])
def test_cantilever_tip_deflection_is_exact_timoshenko_in_both_planes_on_skew_axis(n_el, plane):
    L = 40.0
    nodes = straight(L, n_el)
    direction = Q[:, plane]                                    # local y (1) or z (2)
    u = solve_clamped(nodes, ROD, np.r_[P * direction, 0, 0, 0], v_ref=Q[:, 1])
    kappa = ROD.shear_coefficient(NU_TI)
    exact = P * L**3 / (3 * E_TI * ROD.inertia) + P * L / (kappa * G_TI * ROD.area)
    tip = u[-1, :3] @ direction
    err = rel(tip, exact)
    record(f"beam cantilever plane {'yz'[plane - 1]}, {n_el} el: rel err {err:.2e}")
    assert err < 1e-8
    other = Q[:, 3 - plane]
    assert abs(u[-1, :3] @ other) < 1e-10 * exact           # no coupling between planes
    assert abs(u[-1, :3] @ Q[:, 0]) < 1e-10 * exact


def test_torsion_twist_and_axial_stretch_are_exact():
    L, T, N = 40.0, 2000.0, 800.0
    nodes = straight(L, 10)
    u = solve_clamped(nodes, ROD, np.r_[N * Q[:, 0], T * Q[:, 0]])
    e_twist = rel(u[-1, 3:] @ Q[:, 0], T * L / (G_TI * ROD.polar))
    e_axial = rel(u[-1, :3] @ Q[:, 0], N * L / (E_TI * ROD.area))
    record(f"beam torsion rel err {e_twist:.2e}, axial rel err {e_axial:.2e}")
    assert e_twist < 1e-8 and e_axial < 1e-8


def test_short_deep_beam_adds_timoshenko_shear_deflection():
    d = 6.0
    sec, L = CircularSection(d), 2.0 * d
    u = solve_clamped(straight(L, 4), sec, np.r_[P * Q[:, 1], 0, 0, 0], v_ref=Q[:, 1])
    kappa = sec.shear_coefficient(NU_TI)
    euler = P * L**3 / (3 * E_TI * sec.inertia)
    tip = u[-1, :3] @ Q[:, 1]
    expected_ratio = 3 * E_TI * sec.inertia / (kappa * G_TI * sec.area * L**2)
    err = rel(tip, euler * (1 + expected_ratio))
    record(f"beam L/d=2: shear adds {tip / euler - 1:.4f} of Euler, rel err {err:.2e}")
    assert err < 1e-8
    assert tip / euler - 1 == pytest.approx(expected_ratio, rel=1e-7)
    assert expected_ratio > 0.05


def test_slender_single_element_does_not_lock():
    d = 1.0
    sec, L = CircularSection(d), 1000.0 * d
    u = solve_clamped(straight(L, 1), sec, np.r_[P * Q[:, 2], 0, 0, 0], v_ref=Q[:, 1])
    euler = P * L**3 / (3 * E_TI * sec.inertia)
    timo = euler + P * L / (sec.shear_coefficient(NU_TI) * G_TI * sec.area)
    err = rel(u[-1, :3] @ Q[:, 2], euler)
    err_t = rel(u[-1, :3] @ Q[:, 2], timo)
    record(f"beam L/d=1000 one element: rel err vs Euler {err:.2e}, vs Timoshenko {err_t:.2e}")
    assert err < 1e-6 and err_t < 1e-8


def test_single_element_rigid_body_modes_give_no_force_and_stiffness_is_symmetric():
    x1, x2 = np.array([[1.0, 2.0, -3.0]]), np.array([[1.0, 2.0, -3.0]]) + 15.0 * Q[:, 0]
    k = beam_stiffness(x1, x2, E_TI, NU_TI, ROD.area, ROD.inertia, ROD.polar,
                       ROD.shear_coefficient(NU_TI))[0]
    assert np.array_equal(k, k.T)
    modes = []
    for i in range(3):
        t = np.zeros(12)
        t[[i, 6 + i]] = 1.0
        modes.append(t)
        w = np.eye(3)[i]
        modes.append(np.r_[np.cross(w, x1[0]), w, np.cross(w, x2[0]), w])
    worst = max(np.linalg.norm(k @ m) / (np.linalg.norm(k, 2) * np.linalg.norm(m))
                for m in modes)
    record(f"beam rigid-body modes: max |K m| / (|K| |m|) = {worst:.1e}")
    assert worst < 1e-12
    assert np.linalg.matrix_rank(k, tol=1e-10 * np.linalg.norm(k, 2)) == 6


# ----------------------------------------------------------------- curved rod
def test_quarter_circle_rod_matches_castigliano():
    """Quarter-circle rod (radius R, centre 0) in the xy-plane, clamped at (R, 0), free end
    at (0, R) loaded by P along +y (perpendicular to the radius at the clamp).

    Castigliano's second theorem for a thin curved bar (strain energy of M, N and V with the
    curvature coupling neglected, as in Timoshenko, Strength of Materials Part I, ch. on curved
    bars). At angle phi from the clamp: M = -P R cos(phi), N = P cos(phi), V = P sin(phi), so

        delta_y = pi P R^3 / (4 E I) + pi P R / (4 E A) + pi P R / (4 kappa G A)
        delta_x =    P R^3 / (2 E I) -    P R / (2 E A) +    P R / (2 kappa G A)

    Discretised with 64 straight elements; agreement required within 1 % (measured ~1e-4).
    """
    R, n_el = 100.0, 64
    phi = np.linspace(0.0, np.pi / 2, n_el + 1)
    nodes = R * np.column_stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)])
    u = solve_clamped(nodes, ROD, np.r_[0, P, 0, 0, 0, 0], v_ref=[0.0, 0.0, 1.0])
    A, inertia, kappa = ROD.area, ROD.inertia, ROD.shear_coefficient(NU_TI)
    dy = np.pi * P * R**3 / (4 * E_TI * inertia) + np.pi * P * R / (4 * E_TI * A) \
        + np.pi * P * R / (4 * kappa * G_TI * A)
    dx = P * R**3 / (2 * E_TI * inertia) - P * R / (2 * E_TI * A) \
        + P * R / (2 * kappa * G_TI * A)
    ex, ey = rel(u[-1, 0], dx), rel(u[-1, 1], dy)
    record(f"beam quarter-circle rod, {n_el} el: rel err dx {ex:.2e}, dy {ey:.2e}")
    assert ex < 0.01 and ey < 0.01
    assert np.abs(u[:, 2]).max() < 1e-10 * dy                  # stays in its plane


# ----------------------------------------------------------------- section results
def cantilever_results(load_local: np.ndarray, n_el: int = 5, L: float = 40.0,
                       section: CircularSection = ROD):
    nodes = straight(L, n_el)
    load = np.r_[Q @ load_local[:3], Q @ load_local[3:]]
    u = solve_clamped(nodes, section, load, v_ref=Q[:, 1])
    res = section_results(nodes[:-1], nodes[1:], E_TI, NU_TI, section, element_dofs(u),
                          v_ref=Q[:, 1])
    return nodes, u, res


def test_section_resultants_match_statics_along_the_cantilever():
    L, n_el = 40.0, 5
    F, M = np.array([120.0, -35.0, 60.0]), np.array([900.0, -400.0, 250.0])
    _, _, res = cantilever_results(np.r_[F, M], n_el, L)
    x = np.linspace(0.0, L, n_el + 1)
    xe = np.column_stack([x[:-1], x[1:]])                     # position of each end
    lever = L - xe
    expected = {"N": F[0] + 0 * xe, "Vy": F[1] + 0 * xe, "Vz": F[2] + 0 * xe,
                "T": M[0] + 0 * xe, "My": M[1] - lever * F[2], "Mz": M[2] + lever * F[1]}
    scale = {"N": 1.0, "Vy": 1.0, "Vz": 1.0, "T": 1.0, "My": L, "Mz": L}
    worst = 0.0
    for name, want in expected.items():
        got = getattr(res, name)
        err = np.abs(got - want).max() / (np.abs(F).max() * scale[name])
        worst = max(worst, err)
        assert err < 1e-8, name
    record(f"beam section resultants vs statics: max rel err {worst:.1e}")


@pytest.mark.parametrize("axis", [1, 2])
def test_clamp_von_mises_is_bending_stress_on_the_tension_side(axis):
    L = 40.0
    load = np.zeros(6)
    load[axis] = P
    _, _, res = cantilever_results(load, L=L)
    r = ROD.outer_radius
    sigma_b = P * L * r / ROD.inertia
    # tip load +y: Mz = P (L - x) > 0, tension at y = -r (theta = pi);
    # tip load +z: My = -P (L - x) < 0, tension at z = -r (theta = 3 pi / 2)
    theta_expected = np.pi if axis == 1 else 1.5 * np.pi
    err = rel(res.von_mises_max[0, 0], sigma_b)
    record(f"beam clamp von Mises vs M r / I (load along local {'yz'[axis - 1]}): "
           f"rel err {err:.1e}, angle err {abs(res.theta_max[0, 0] - theta_expected):.1e}")
    assert err < 1e-8
    assert res.sigma_at_max[0, 0] == pytest.approx(sigma_b, rel=1e-8)
    assert abs(res.theta_max[0, 0] - theta_expected) < 1e-6
    assert abs(res.tau_at_max[0, 0]) < 1e-8 * sigma_b


def test_pure_torsion_von_mises_is_sqrt3_shear():
    T = 1500.0
    _, _, res = cantilever_results(np.r_[0, 0, 0, T, 0, 0])
    expected = np.sqrt(3) * T * ROD.outer_radius / ROD.polar
    err = np.abs(res.von_mises_max - expected).max() / expected
    record(f"beam pure torsion von Mises vs sqrt(3) T r / J: rel err {err:.1e}")
    assert err < 1e-8
    assert np.abs(res.sigma_at_max).max() < 1e-8 * expected


def test_surface_stress_sign_matches_fibre_strain_from_nodal_rotations():
    """Independent check of the sign convention: Timoshenko kinematics give the axial strain of
    the fibre at (y, z) as du0/dx + z dry/dx - y drz/dx, constant-averaged over an element."""
    nodes, u, res = cantilever_results(np.r_[40.0, 30.0, -70.0, 0, 500.0, -200.0], n_el=4)
    theta = np.linspace(0.0, 2 * np.pi, 13)
    sigma, tau = surface_stresses(res, ROD, theta)
    R = local_frames(nodes[:-1], nodes[1:], Q[:, 1])
    h = np.diff(nodes, axis=0)
    L = np.linalg.norm(h, axis=1)
    du = np.einsum("nij,nj->ni", R, u[1:, :3] - u[:-1, :3])[:, 0] / L
    drot = np.einsum("nij,nj->ni", R, u[1:, 3:] - u[:-1, 3:]) / L[:, None]
    r = ROD.outer_radius
    strain = du[:, None] + r * np.sin(theta) * drot[:, 1:2] - r * np.cos(theta) * drot[:, 2:3]
    err = np.abs(sigma.mean(axis=1) - E_TI * strain).max() / np.abs(E_TI * strain).max()
    record(f"beam surface stress vs fibre strain from rotations: rel err {err:.1e}")
    assert err < 1e-8
    # the reported maximum is consistent with the angle-wise stresses
    s_at, t_at = surface_stresses(res, ROD, res.theta_max[0, 0])
    assert s_at[0, 0, 0] == pytest.approx(res.sigma_at_max[0, 0], rel=1e-12)
    assert np.all(res.von_mises_max[..., None] >= np.sqrt(sigma**2 + 3 * tau**2) - 1e-9)


def test_refined_von_mises_maximum_is_not_beaten_by_a_fine_angular_grid():
    rng = np.random.default_rng(7)
    n = 200
    x1 = rng.normal(size=(n, 3)) * 30.0
    x2 = x1 + rng.normal(size=(n, 3)) * 4.0
    sec = CircularSection(rng.uniform(4.0, 7.0, n), rng.uniform(0.0, 3.0, n))
    res = section_results(x1, x2, E_TI, NU_TI, sec, rng.normal(size=(n, 12)) * 1e-3)
    sigma, tau = surface_stresses(res, sec, np.linspace(0.0, 2 * np.pi, 2001))
    brute = np.sqrt(sigma**2 + 3 * tau**2).max(axis=2)
    shortfall = ((brute - res.von_mises_max) / brute).max()
    record(f"beam von Mises max vs 2001-angle brute force: max shortfall {shortfall:.1e}")
    assert shortfall < 1e-12


def test_hollow_section_surface_shear_uses_wall_factor():
    sec = CircularSection(6.0, 4.0)
    _, _, res = cantilever_results(np.r_[0, P, 0, 0, 0, 0], section=sec)
    _, tau = surface_stresses(res, sec, [np.pi / 2])           # neutral axis for Vy
    m = 4.0 / 6.0
    expected = -(4 / 3) * (1 + m + m * m) / (1 + m * m) * P / sec.area
    assert tau[0, 0, 0] == pytest.approx(expected, rel=1e-10)


# ----------------------------------------------------------------- bad input
def test_zero_length_element_is_rejected_by_index():
    x1 = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    with pytest.raises(ValueError, match="element 1"):
        beam_stiffness(x1, np.array([[1.0, 0, 0], [1.0, 0, 0]]), E_TI, NU_TI, 1, 1, 1, 1)


def test_v_ref_parallel_to_axis_is_rejected_by_index():
    with pytest.raises(ValueError, match="element 0"):
        local_frames([[0.0, 0, 0]], [[0.0, 0, 5.0]], [0.0, 0.0, 2.0])


@pytest.mark.parametrize("outer,inner,text", [
    (6.0, 6.0, "inner_diameter_mm must be < outer_diameter_mm"),
    (6.0, 7.0, "7.0"),
    (0.0, 0.0, "outer_diameter_mm must be finite and > 0"),
    ([6.0, 5.5], [2.0, 5.5], "index 1"),
])
def test_bad_section_diameters_are_rejected(outer, inner, text):
    with pytest.raises(ValueError, match=text):
        CircularSection(outer, inner)


def test_default_v_ref_avoids_the_axis():
    v = default_v_ref([[0.0, 0, 0], [0, 0, 0]], [[1.0, 0, 0], [0.1, 0, 1.0]])
    assert np.array_equal(v, [[0, 0, 1.0], [1.0, 0, 0]])
    R = local_frames([[0.0, 0, 0]], [[0.0, 0, 3.0]])
    assert np.allclose(R[0] @ R[0].T, np.eye(3))
