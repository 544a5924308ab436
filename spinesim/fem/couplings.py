"""Couplings between a 6-DOF reference node and a set of solid nodes, as multi-point
constraints (applied by transformation, so the system stays SPD with no penalty numbers).

* ``distributing_coupling`` (RBE3-like): the reference node follows the weighted least-squares
  rigid motion of the surface nodes; forces and moments on the reference node are spread over
  the surface without stiffening it (the surface keeps its own stiffness).
* ``kinematic_coupling`` (rigid): every surface node follows the rigid motion of the reference
  node; the surface becomes rigid.

Pure moments (and forces) applied at the reference node are the standard way to load a spinal
segment; the reference node's rotation is then the segment's rotation.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.errors import ConstraintError
from spinesim.fem.constraints import MultiPointConstraint
from spinesim.fem.dofs import DofLayout


def cross_matrices(r: np.ndarray) -> np.ndarray:
    """[r]x for each row of r: (m, 3, 3), with [r]x u = r x u."""
    X = np.zeros((len(r), 3, 3))
    X[:, 0, 1], X[:, 0, 2] = -r[:, 2], r[:, 1]
    X[:, 1, 0], X[:, 1, 2] = r[:, 2], -r[:, 0]
    X[:, 2, 0], X[:, 2, 1] = -r[:, 1], r[:, 0]
    return X


def _surface(layout: DofLayout, nodes: ArrayLike, points: np.ndarray, name: str):
    nodes = np.unique(np.asarray(nodes, np.int64).ravel())
    if len(nodes) < 3:
        raise ConstraintError(f"coupling {name!r}: needs at least 3 surface nodes, got {len(nodes)}")
    if nodes.max() >= layout.n_solid or nodes.min() < 0:
        raise ConstraintError(f"coupling {name!r}: surface nodes must be solid (mesh) nodes "
                              f"0..{layout.n_solid - 1}")
    return nodes, np.asarray(points, float)[nodes]


def distributing_coupling(layout: DofLayout, ref_node: int, ref_point: ArrayLike,
                          surface_nodes: ArrayLike, points: np.ndarray,
                          weights: ArrayLike | None = None,
                          name: str = "distributing coupling") -> MultiPointConstraint:
    """RBE3-like coupling: the 6 DOFs of ``ref_node`` become the weighted least-squares rigid
    motion of ``surface_nodes``.

    Parameters
    ----------
    layout : DofLayout of the model
    ref_node : model id of a 6-DOF node (``layout.n_solid + k``)
    ref_point : (3,) mm, its position
    surface_nodes : mesh node ids
    points : (n_mesh_nodes, 3) mm, mesh node positions (user order)
    weights : (len(surface_nodes),), optional
        Weights per surface node (e.g. tributary areas); default equal.
    """
    nodes, x = _surface(layout, surface_nodes, points, name)
    w = np.ones(len(nodes)) if weights is None else np.asarray(weights, float).ravel()
    if w.shape != (len(nodes),) or np.any(w < 0) or not w.sum() > 0:
        raise ConstraintError(f"coupling {name!r}: weights must be >= 0, one per surface node")
    w = w / w.sum()
    c = w @ x
    r = x - c
    A = np.einsum("i,ij,ik->jk", w, r, r)
    A = np.trace(A) * np.eye(3) - A  # sum w (|r|^2 I - r r^T)
    if np.linalg.cond(A) > 1e12:
        raise ConstraintError(f"coupling {name!r}: the surface nodes are (nearly) collinear; "
                              "their rigid rotation is undefined")
    Ainv = np.linalg.inv(A)
    Xr = cross_matrices(r)  # (m, 3, 3)
    rot = np.einsum("jk,i,ikl->ijl", Ainv, w, Xr)  # theta = sum_i rot[i] u_i, (m, 3, 3)
    d = np.asarray(ref_point, float) - c
    trans = w[:, None, None] * np.eye(3)[None] - np.einsum("jk,ikl->ijl", cross_matrices(d[None])[0], rot)
    coeff = np.concatenate([trans, rot], axis=1)  # (m, 6, 3): ref DOF j from u_i component l
    cols = layout.dofs(nodes, (0, 1, 2), what=name)  # (m, 3)
    rows = np.broadcast_to(np.arange(6)[None, :, None], coeff.shape)
    colb = np.broadcast_to(cols[:, None, :], coeff.shape)
    C = sp.csr_matrix((coeff.ravel(), (rows.ravel(), colb.ravel())), shape=(6, layout.n_dofs))
    slaves = layout.dofs([ref_node], range(6), what=name).ravel()
    return MultiPointConstraint(slaves, C, name=name)


def kinematic_coupling(layout: DofLayout, ref_node: int, ref_point: ArrayLike,
                       surface_nodes: ArrayLike, points: np.ndarray,
                       name: str = "kinematic coupling") -> MultiPointConstraint:
    """Rigid coupling: each surface node moves as ``u_R + theta_R x (x_i - x_R)``; arguments as
    for :func:`distributing_coupling` (``ref_point`` (3,) and ``points`` (n_mesh_nodes, 3) in
    mm)."""
    nodes, x = _surface(layout, surface_nodes, points, name)
    d = x - np.asarray(ref_point, float)
    m = len(nodes)
    ref = layout.dofs([ref_node], range(6), what=name).ravel()
    # u_i = u_R - [d_i]x theta_R
    coeff = np.concatenate([np.broadcast_to(np.eye(3), (m, 3, 3)), -cross_matrices(d)], axis=2)
    rows = np.broadcast_to(np.arange(3 * m).reshape(m, 3, 1), coeff.shape)
    cols = np.broadcast_to(ref[None, None, :], coeff.shape)
    C = sp.csr_matrix((coeff.ravel(), (rows.ravel(), cols.ravel())), shape=(3 * m, layout.n_dofs))
    slaves = layout.dofs(nodes, (0, 1, 2), what=name).ravel()
    return MultiPointConstraint(slaves, C, name=name)


def rigid_link(layout: DofLayout, master: int, master_point: ArrayLike, slaves: ArrayLike,
               slave_points: np.ndarray, name: str = "rigid link") -> MultiPointConstraint:
    """6-DOF nodes ``slaves`` (at ``slave_points``, mm) move rigidly with the 6-DOF node
    ``master``: ``u_s = u_m + theta_m x (x_s - x_m)`` and ``theta_s = theta_m``."""
    slaves = np.asarray(slaves, np.int64).ravel()
    if np.any(slaves < layout.n_solid) or master < layout.n_solid:
        raise ConstraintError(f"{name}: master and slaves must be 6-DOF nodes")
    d = np.asarray(slave_points, float).reshape(-1, 3) - np.asarray(master_point, float)
    m = len(slaves)
    coeff = np.zeros((m, 6, 6))
    coeff[:, :3, :3] = np.eye(3)
    coeff[:, :3, 3:] = -cross_matrices(d)
    coeff[:, 3:, 3:] = np.eye(3)
    mdofs = layout.dofs([master], range(6), what=name).ravel()
    rows = np.broadcast_to(np.arange(6 * m).reshape(m, 6, 1), coeff.shape)
    cols = np.broadcast_to(mdofs[None, None, :], coeff.shape)
    C = sp.csr_matrix((coeff.ravel(), (rows.ravel(), cols.ravel())), shape=(6 * m, layout.n_dofs))
    return MultiPointConstraint(layout.dofs(slaves, range(6), what=name).ravel(), C, name=name)


def tie_translations(layout: DofLayout, masters: ArrayLike, slaves: ArrayLike,
                     name: str = "translation tie") -> MultiPointConstraint:
    """The translations of ``slaves`` equal those of ``masters`` (pairwise, any node kinds)."""
    masters = np.asarray(masters, np.int64).ravel()
    slaves = np.asarray(slaves, np.int64).ravel()
    if masters.shape != slaves.shape:
        raise ConstraintError(f"{name}: {len(masters)} masters but {len(slaves)} slaves")
    md = layout.dofs(masters, (0, 1, 2), what=name).ravel()
    sd = layout.dofs(slaves, (0, 1, 2), what=name).ravel()
    C = sp.csr_matrix((np.ones(len(md)), (np.arange(len(md)), md)), shape=(len(md), layout.n_dofs))
    return MultiPointConstraint(sd, C, name=name)
