"""Embedded interface springs: a 6-DOF node (a screw node) tied to the solid it is embedded in,
through springs acting on the relative displacement

    d = u_node + theta x lever - sum_k c_k u_k        (mm)

with a stiffness ``S = k_axial t t^T + k_normal (I - t t^T)`` (N/mm) about the unit axis ``t``
(the screw axis): ``k_axial`` resists slip along the screw (pull-out / push-in), ``k_normal``
resists lateral motion; a torsional spring resists the twist about ``t`` against the host's
rotation. The host weights ``c_k`` are the shape functions of the element holding one point
(``lever`` 0), or the mean over several points, each in its own element (a distributing
coupling, ``c_k = sum_j w_j N_k(x_j)``, ``lever`` from the node to their centroid; a node may
then appear more than once, and the assembly adds its entries). Each tie is an ordinary small
element (:func:`coupling_matrices`), so it goes through the same assembler and its stiffness
is a value refill (loosening scales it without touching the pattern).
"""

from __future__ import annotations

import numpy as np

from spinesim.fem.couplings import cross_matrices


def spring_tensors(axis: np.ndarray, k_axial: np.ndarray, k_normal: np.ndarray) -> np.ndarray:
    """(p, 3, 3) spring tensors S = k_a t t^T + k_n (I - t t^T), N/mm; ``axis`` (p, 3) unit."""
    t = np.asarray(axis, float)
    t = t / np.linalg.norm(t, axis=1)[:, None]
    tt = np.einsum("pi,pj->pij", t, t)
    ka = np.asarray(k_axial, float).reshape(-1, 1, 1)
    kn = np.asarray(k_normal, float).reshape(-1, 1, 1)
    return ka * tt + kn * (np.eye(3) - tt)


def relative_displacement(u_node: np.ndarray, u_host: np.ndarray, N: np.ndarray,
                          theta: np.ndarray | None = None, lever: np.ndarray | None = None
                          ) -> np.ndarray:
    """Relative displacement (p, 3) mm of nodes against their host points:
    ``u_node + theta x lever - sum_k N_k u_host_k`` with ``u_host`` (p, nen, 3); the rotation
    term (``theta`` (p, 3) rad, ``lever`` (p, 3) mm) only when both are given."""
    d = np.asarray(u_node) - np.einsum("pk,pkd->pd", N, u_host)
    if theta is not None and lever is not None:
        d = d + np.cross(theta, lever)
    return d


def split_axial_normal(d: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes (p,) of the axial and normal (lateral) parts of vectors ``d`` (p, 3) about the
    ``axis`` (p, 3, normalised here), in the unit of ``d`` (mm for displacements)."""
    t = axis / np.linalg.norm(axis, axis=1)[:, None]
    a = np.einsum("pi,pi->p", d, t)
    return np.abs(a), np.linalg.norm(d - a[:, None] * t, axis=1)


def curl_twist_coefficients(grad_N: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Twist coefficients (p, nen, 3), 1/mm, of the host material's rotation about ``axis`` at a
    point: ``t . omega = sum_k g_k . u_k`` with ``omega = curl(u) / 2``, so
    ``g_k = (t x grad N_k) / 2``; ``grad_N`` (p, nen, 3) in 1/mm, ``axis`` (p, 3) unit."""
    t = axis / np.linalg.norm(axis, axis=1)[:, None]
    return 0.5 * np.cross(t[:, None, :], grad_N)


def coupling_matrices(c: np.ndarray, g: np.ndarray, lever: np.ndarray, axis: np.ndarray,
                      S: np.ndarray, k_torsion: np.ndarray) -> np.ndarray:
    """Element matrices (p, 6+3nen, 6+3nen) of a 6-DOF node coupled to host nodes, DOFs
    ``(node x, y, z, rx, ry, rz, host node 1 x, y, z, ..., host node nen x, y, z)``.

    Two springs act on the node's motion against the host's weighted motion:

    * translation, stiffness ``S`` (p, 3, 3) N/mm, on
      ``d = u_node + theta x lever - sum_k c_k u_k`` (mm): the node's rigid arm to the
      coupled point(s) (``lever``, (p, 3) mm, zero for a point on the node) against the
      host's mean displacement there;
    * twist about ``axis`` (p, 3, unit), stiffness ``k_torsion`` (p,) N·mm/rad, on
      ``phi = t . theta - sum_k g_k . u_k`` with twist coefficients ``g`` (p, nen, 3), 1/mm
      (:func:`curl_twist_coefficients` for a material point).

    ``c`` (p, nen) are the host weights (shape functions at a point, or means over points).
    Both springs are free in any rigid motion of node and host together when ``c`` sums to 1
    and ``g`` measures the host's rotation.
    """
    c = np.asarray(c, float)
    p, nen = c.shape
    m = 6 + 3 * nen
    B = np.zeros((p, 3, m))
    B[:, :, :3] = np.eye(3)
    B[:, :, 3:6] = -cross_matrices(np.asarray(lever, float))  # theta x r = -[r]x theta
    B[:, :, 6:] = -np.einsum("pk,ij->pikj", c, np.eye(3)).reshape(p, 3, 3 * nen)
    K = np.einsum("pai,pab,pbj->pij", B, np.asarray(S, float), B)
    K = 0.5 * (K + K.transpose(0, 2, 1))  # exactly symmetric (the sum order differs by entry)
    t = axis / np.linalg.norm(axis, axis=1)[:, None]
    b = np.concatenate([np.zeros((p, 3)), t, -np.asarray(g, float).reshape(p, -1)], axis=1)
    return K + np.asarray(k_torsion, float).reshape(-1, 1, 1) * np.einsum("pi,pj->pij", b, b)
