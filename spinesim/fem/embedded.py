"""Embedded interface springs: a 6-DOF node (a screw node) tied to the material point of a solid
element that contains it, through springs acting on the relative displacement

    d = u_node - sum_k N_k(x) u_k        (mm)

with a stiffness ``S = k_axial t t^T + k_normal (I - t t^T)`` (N/mm) about the unit axis ``t``
(the screw axis): ``k_axial`` resists slip along the screw (pull-out / push-in), ``k_normal``
resists lateral motion. Each spring is an ordinary small element ``K = (w w^T) kron S`` with
``w = (1, -N_1, ..., -N_nen)``, so it goes through the same assembler and its stiffness is a
value refill (loosening changes ``S`` without touching the pattern).
"""

from __future__ import annotations

import numpy as np


def spring_tensors(axis: np.ndarray, k_axial: np.ndarray, k_normal: np.ndarray) -> np.ndarray:
    """(p, 3, 3) spring tensors S = k_a t t^T + k_n (I - t t^T), N/mm; ``axis`` (p, 3) unit."""
    t = np.asarray(axis, float)
    t = t / np.linalg.norm(t, axis=1)[:, None]
    tt = np.einsum("pi,pj->pij", t, t)
    ka = np.asarray(k_axial, float).reshape(-1, 1, 1)
    kn = np.asarray(k_normal, float).reshape(-1, 1, 1)
    return ka * tt + kn * (np.eye(3) - tt)


def embedded_spring_matrices(N: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Element matrices (p, 3(1+nen), 3(1+nen)) in N/mm for DOFs
    ``(node x, y, z, solid node 1 x, y, z, ..., solid node nen x, y, z)``.

    Parameters
    ----------
    N : (p, nen) shape-function values of the host element at the node's position
    S : (p, 3, 3) spring tensors (N/mm)
    """
    N = np.asarray(N, float)
    w = np.concatenate([np.ones((len(N), 1)), -N], axis=1)  # (p, 1+nen)
    m = w.shape[1]
    K = np.einsum("pa,pb,pij->paibj", w, w, S)
    return K.reshape(len(N), 3 * m, 3 * m)


def relative_displacement(u_node: np.ndarray, u_host: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Relative displacement (p, 3) mm of nodes against their host points:
    ``u_node - sum_k N_k u_host_k`` with ``u_host`` (p, nen, 3)."""
    return np.asarray(u_node) - np.einsum("pk,pkd->pd", N, u_host)


def split_axial_normal(d: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes of the axial and normal (lateral) parts of vectors ``d`` about unit ``axis``."""
    t = axis / np.linalg.norm(axis, axis=1)[:, None]
    a = np.einsum("pi,pi->p", d, t)
    return np.abs(a), np.linalg.norm(d - a[:, None] * t, axis=1)


def torsion_spring_matrices(grad_N: np.ndarray, axis: np.ndarray, k_torsion: np.ndarray
                            ) -> np.ndarray:
    """Element matrices (p, 3+3nen, 3+3nen) in N·mm/rad for DOFs ``(node rx, ry, rz, solid node
    1 x, y, z, ...)`` of a torsional spring on the twist about ``axis`` between the node's
    rotation and the host material's rotation ``omega = curl(u) / 2`` at the node:
    ``phi = t . theta - t . omega`` with ``t . omega = sum_k (t x grad N_k) . u_k / 2``.

    Parameters
    ----------
    grad_N : (p, nen, 3) shape-function gradients of the host at the node, 1/mm
    axis : (p, 3) unit screw axes
    k_torsion : (p,) torsional stiffness, N·mm/rad
    """
    t = axis / np.linalg.norm(axis, axis=1)[:, None]
    host = -0.5 * np.cross(t[:, None, :], grad_N)  # (p, nen, 3)
    b = np.concatenate([t, host.reshape(len(t), -1)], axis=1)
    return np.asarray(k_torsion, float).reshape(-1, 1, 1) * np.einsum("pi,pj->pij", b, b)
