"""Supports and multi-point constraints, and the reduced system they define.

Every constraint is linear in the DOFs ``u`` (3*node + component, mesh node order):

* ``Support``: prescribed displacement of some components of a node set (mm);
* ``MultiPointConstraint``: ``u[slaves] = C @ u + offset`` with C sparse, not referring to
  slaves. Reference nodes and beam-to-solid ties are built on it.

By default constraints are applied by transformation, ``u = T u_r + g``: the reduced matrix
``T^T K T`` stays symmetric positive definite and no penalty number spoils its conditioning.
A penalty form is offered for multi-point constraints (``method="penalty"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components

from spinesim.errors import ConstraintError
from spinesim.fem.dofs import DofLayout
from spinesim.fem.solvers import RIGID_MODE_NAMES

log = logging.getLogger(__name__)

#: A refill that changes at most this fraction of the stored values of K is reduced by
#: transforming the change only (``T^T dK T``) and adding it to the last reduced matrix.
INCREMENTAL_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class _Transformed:
    """The last ``T^T K T``: K's pattern (references) and values (a copy), and the result."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple
    reduced: sp.csr_matrix



@dataclass(frozen=True, eq=False)
class Support:
    """Prescribed displacement (mm) of ``components`` (0=x, 1=y, 2=z; on 6-DOF beam and
    reference nodes also 3=rx, 4=ry, 5=rz, in rad) of ``nodes`` (model node ids).

    ``value`` is a scalar, one value per component, or an array (len(nodes), len(components)).
    """

    nodes: np.ndarray
    components: tuple[int, ...] = (0, 1, 2)
    value: ArrayLike = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", np.unique(np.asarray(self.nodes, np.int64).ravel()))
        comps = tuple(int(c) for c in self.components)
        if not comps or any(c not in range(6) for c in comps) or len(set(comps)) != len(comps):
            raise ConstraintError(f"support {self.name!r}: components must be distinct values "
                                  f"from 0-2 (x, y, z) or 3-5 (rotations of 6-DOF nodes), got "
                                  f"{self.components}")
        object.__setattr__(self, "components", comps)

    def dofs_and_values(self, layout: "DofLayout | int") -> tuple[np.ndarray, np.ndarray]:
        """Global DOF ids and prescribed values (mm on translations, rad on rotations), both
        (len(nodes) * len(components),)."""
        layout = DofLayout(layout) if isinstance(layout, (int, np.integer)) else layout
        if len(self.nodes) == 0:
            raise ConstraintError(f"support {self.name!r} has no nodes")
        dofs = layout.dofs(self.nodes, self.components, what=f"support {self.name!r}")
        shape = dofs.shape
        try:
            vals = np.broadcast_to(np.asarray(self.value, dtype=float), shape)
        except ValueError:
            raise ConstraintError(f"support {self.name!r}: value of shape "
                                  f"{np.shape(self.value)} does not fit {shape}") from None
        return dofs.ravel(), np.array(vals, dtype=float).ravel()


@dataclass(frozen=True, eq=False)
class MultiPointConstraint:
    """Linear constraints ``u[slaves] = C @ u + offset`` over user DOFs.

    Parameters
    ----------
    slaves : (m,) int
        Constrained DOFs (3*node + component), each once.
    C : sparse (m, n_dofs)
        Coefficients on the master DOFs; must not refer to any slave DOF.
    offset : (m,) float
        Constant part (mm). Default zero.
    method : "transformation" or "penalty"
        Elimination (default) or a penalty spring of ``penalty`` N/mm per constraint.
    """

    slaves: np.ndarray
    C: sp.csr_matrix
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0))
    method: str = "transformation"
    penalty: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        slaves = np.asarray(self.slaves, np.int64).ravel()
        C = sp.csr_matrix(self.C)
        off = np.asarray(self.offset, float).ravel()
        off = np.zeros(len(slaves)) if off.size == 0 else off
        if C.shape[0] != len(slaves) or len(off) != len(slaves):
            raise ConstraintError(f"MPC {self.name!r}: {len(slaves)} slaves but C has "
                                  f"{C.shape[0]} rows and offset {len(off)} values")
        if len(np.unique(slaves)) != len(slaves):
            raise ConstraintError(f"MPC {self.name!r}: a slave DOF appears twice")
        if self.method not in ("transformation", "penalty"):
            raise ConstraintError(f"MPC {self.name!r}: method must be 'transformation' or "
                                  f"'penalty', got {self.method!r}")
        if self.method == "penalty" and not self.penalty > 0:
            raise ConstraintError(f"MPC {self.name!r}: penalty method needs penalty > 0 (N/mm)")
        object.__setattr__(self, "slaves", slaves)
        object.__setattr__(self, "C", C)
        object.__setattr__(self, "offset", off)

    def rows(self, n_dofs: int) -> sp.csr_matrix:
        """The constraint as rows A u = offset (mm, rad) with A = E_slaves - C, shape
        (m, n_dofs)."""
        m = len(self.slaves)
        E = sp.csr_matrix((np.ones(m), (np.arange(m), self.slaves)), shape=(m, n_dofs))
        return sp.csr_matrix(E - self.C)


def _name_mode(v: np.ndarray) -> str:
    v = v / np.abs(v).max()
    terms = [(abs(c), f"{c:+.2f} {RIGID_MODE_NAMES[k]}") for k, c in enumerate(v) if abs(c) > 0.05]
    if len(terms) == 1:
        return RIGID_MODE_NAMES[int(np.argmax(np.abs(v)))]
    return " ".join(t for _, t in sorted(terms, reverse=True))


def free_rigid_modes(points: np.ndarray, node_graph: sp.csr_matrix,
                     constraint_rows: sp.csr_matrix,
                     layout: DofLayout | None = None) -> list[tuple[np.ndarray, list[str]]]:
    """Rigid-body motions left free by the constraints, per connected part of the model.

    Parameters
    ----------
    points : (n_nodes, 3) mm, node positions in the layout's node order
    node_graph : (n_nodes, n_nodes) which nodes are coupled (by elements or constraints)
    constraint_rows : (m, n_dofs) constraints ``A u = b`` in the same DOF numbering
    layout : DofLayout, default all nodes 3-DOF

    Returns
    -------
    list of (node ids of the part, names of its free modes); empty when none is free.
    """
    layout = layout or DofLayout(len(points))
    n_parts, labels = connected_components(node_graph, directed=False)
    A = constraint_rows.tocsc()
    node_of = layout.node_of_dof(np.arange(layout.n_dofs))
    out = []
    for part in range(n_parts):
        nodes = np.flatnonzero(labels == part)
        dofs = np.flatnonzero(labels[node_of] == part)
        R = layout.rigid_modes(points, center=points[nodes].mean(axis=0))[dofs]
        R /= np.where((nrm := np.linalg.norm(R, axis=0)) > 0, nrm, 1.0)
        M = np.asarray(A[:, dofs] @ R) if A.shape[0] else np.zeros((0, 6))
        if M.shape[0]:
            _, s, Vt = np.linalg.svd(M, full_matrices=True)
            rank = int(np.sum(s > 1e-10 * max(1.0, s.max(initial=0.0))))
            null = Vt[rank:]
        else:
            null = np.eye(6)
        if len(null):
            out.append((nodes, [_name_mode(v) for v in null]))
    return out


class ConstraintSet:
    """All supports and MPCs of a model, reduced to ``u = T u_r + g`` over internal DOFs.

    Parameters
    ----------
    layout : DofLayout or int
        The DOF layout, or the number of (3-DOF) solid nodes.
    supports : sequence of Support
    mpcs : sequence of MultiPointConstraint
    dof_rank : (n_dofs,) int
        Internal DOF of each user DOF (see ``Assembler.user_dofs``).
    """

    def __init__(self, layout: DofLayout | int, supports=(), mpcs=(),
                 dof_rank: np.ndarray | None = None):
        layout = DofLayout(layout) if isinstance(layout, (int, np.integer)) else layout
        self.layout = layout
        n = layout.n_dofs
        self.n_dofs = n
        rank = np.arange(n) if dof_rank is None else np.asarray(dof_rank)
        self.supports = tuple(supports)
        self.mpcs = tuple(m for m in mpcs if m.method == "transformation")
        self.penalty_mpcs = tuple(m for m in mpcs if m.method == "penalty")
        fixed_user, values = [], []
        for s in self.supports:
            d, v = s.dofs_and_values(layout)
            fixed_user.append(d)
            values.append(v)
        fu = np.concatenate(fixed_user) if fixed_user else np.zeros(0, np.int64)
        fv = np.concatenate(values) if values else np.zeros(0)
        order = np.argsort(fu, kind="stable")
        fu, fv = fu[order], fv[order]
        dup = np.flatnonzero(np.diff(fu) == 0)
        clash = dup[fv[dup] != fv[dup + 1]]
        if len(clash):
            raise ConstraintError("two supports prescribe different values on "
                                  + ", ".join(layout.describe(int(fu[i])) for i in clash[:10]))
        keep = np.ones(len(fu), bool)
        keep[dup + 1] = False
        self.fixed_user, self.fixed_values_user = fu[keep], fv[keep]
        slaves_user = (np.concatenate([m.slaves for m in self.mpcs])
                       if self.mpcs else np.zeros(0, np.int64))
        both = np.intersect1d(slaves_user, self.fixed_user)
        if len(both):
            raise ConstraintError("DOFs both supported and MPC slaves: "
                                  + ", ".join(layout.describe(int(d)) for d in both[:10]))
        if len(np.unique(slaves_user)) != len(slaves_user):
            raise ConstraintError("a DOF is the slave of two multi-point constraints")
        # ---- internal numbering
        self.fixed = rank[self.fixed_user]
        self.slaves = rank[slaves_user]
        constrained = np.zeros(n, bool)
        constrained[self.fixed] = True
        constrained[self.slaves] = True
        self.free = np.flatnonzero(~constrained)
        self.selection_only = not self.mpcs
        perm = sp.csr_matrix((np.ones(n), (rank, np.arange(n))), shape=(n, n))  # user -> internal
        self._perm = perm
        if self.mpcs:
            C_user = sp.vstack([m.C for m in self.mpcs]).tocsr()
            C = sp.csr_matrix(C_user @ perm.T)  # columns in internal numbering
            if C[:, self.slaves].nnz:
                raise ConstraintError("a multi-point constraint refers to another constraint's "
                                      "slave DOF as a master (chain constraints explicitly)")
            self._C = C
            self._offset = np.concatenate([m.offset for m in self.mpcs])
        col = -np.ones(n, np.int64)
        col[self.free] = np.arange(len(self.free))
        rows, cols, vals = [self.free], [np.arange(len(self.free))], [np.ones(len(self.free))]
        if self.mpcs:
            Cc = self._C.tocoo()
            on_free = col[Cc.col] >= 0
            rows.append(self.slaves[Cc.row[on_free]])
            cols.append(col[Cc.col[on_free]])
            vals.append(Cc.data[on_free])
        self.T = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(n, len(self.free)))
        involved = constrained.copy()
        for m in self.mpcs + self.penalty_mpcs:
            involved[rank[m.C.indices]] = True
            involved[rank[m.slaves]] = True
        self.involved = involved  # DOFs that can carry a reaction or constraint force
        self._map: np.ndarray | None = None
        self._last_transformed: _Transformed | None = None

    # --------------------------------------------------------------- constraint rows
    def rows_user(self) -> sp.csr_matrix:
        """All constraints as rows ``A u = b`` over user DOFs (for rigid-mode checks)."""
        k = len(self.fixed_user)
        A = [sp.csr_matrix((np.ones(k), (np.arange(k), self.fixed_user)), shape=(k, self.n_dofs))]
        A += [m.rows(self.n_dofs) for m in self.mpcs + self.penalty_mpcs]
        return sp.vstack(A).tocsr()

    def g(self, values: np.ndarray | None = None) -> np.ndarray:
        """Internal DOF vector of prescribed parts: support values and MPC offsets (mm)."""
        g = np.zeros(self.n_dofs)
        g[self.fixed] = self.fixed_values_user if values is None else values
        if self.mpcs:
            g[self.slaves] = self._C @ g + self._offset
        return g

    # --------------------------------------------------------------- reduced operators
    def add_penalties(self, K: sp.csr_matrix, f: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """K + sum alpha a a^T (N/mm) and f + alpha offset a (N) for penalty MPCs (internal
        order; ``alpha`` the MPC's penalty, N/mm)."""
        if not self.penalty_mpcs:
            return K, f
        for m in self.penalty_mpcs:
            A = sp.csr_matrix(m.rows(self.n_dofs) @ self._perm.T)
            K = K + m.penalty * (A.T @ A)
            f = f + m.penalty * (A.T @ m.offset)
        return sp.csr_matrix(K), f

    def reduce_matrix(self, K: sp.csr_matrix) -> sp.csr_matrix:
        """``T^T K T``. For supports only, the reduced values are gathered through a map built
        on the first call, so refills cost one indexed copy."""
        if not self.selection_only or self.penalty_mpcs:
            return self._transformed(K)
        if self._map is None or len(self._map_src) != K.nnz:
            probe = sp.csr_matrix((np.arange(K.nnz, dtype=np.float64), K.indices, K.indptr),
                                  shape=K.shape)
            sub = probe[self.free][:, self.free].tocsr()
            sub.sort_indices()
            self._map = sub.data.astype(np.int64)
            self._map_src = K.data
            self._reduced = sp.csr_matrix((K.data[self._map], sub.indices, sub.indptr),
                                          shape=sub.shape)
        else:
            np.take(K.data, self._map, out=self._reduced.data)
        return self._reduced

    def _transformed(self, K: sp.csr_matrix) -> sp.csr_matrix:
        """``T^T K T`` with MPCs. When K has the pattern of the last call and only a few of
        its values changed (a refill of some cells or springs), only the change is
        transformed and added to the last result, instead of the whole triple product."""
        last = self._last_transformed
        if last is not None and K.shape == last.shape and K.nnz == len(last.data) \
                and (K.indices is last.indices or np.array_equal(K.indices, last.indices)) \
                and (K.indptr is last.indptr or np.array_equal(K.indptr, last.indptr)):
            pos = np.flatnonzero(K.data != last.data)
            if len(pos) <= INCREMENTAL_FRACTION * K.nnz:
                out = self._add_transformed(last.reduced, pos, K.data[pos] - last.data[pos], K)
                if out is not None:
                    last.data[pos] = K.data[pos]  # the kept copy follows K
                    self._last_transformed = _Transformed(K.indptr, K.indices, last.data,
                                                          K.shape, out)
                    return out
        out = sp.csr_matrix(self._Tt @ K @ self.T)
        out.sort_indices()
        self._last_transformed = _Transformed(K.indptr, K.indices, K.data.copy(), K.shape, out)
        return out

    @cached_property
    def _Tt(self) -> sp.csr_matrix:
        return sp.csr_matrix(self.T.T)

    def _add_transformed(self, reduced: sp.csr_matrix, pos: np.ndarray, values: np.ndarray,
                         K: sp.csr_matrix) -> sp.csr_matrix | None:
        """``reduced + T^T dK T`` for the change dK (``values`` at storage positions ``pos``
        of K), as a new matrix on ``reduced``'s pattern (sorted indices); None if the change
        reaches an entry outside that pattern."""
        rows = np.searchsorted(K.indptr, pos, side="right") - 1
        dK = sp.csr_matrix((values, (rows, K.indices[pos])), shape=K.shape)
        dR = sp.coo_matrix(self._Tt @ dK @ self.T)
        data = reduced.data.copy()
        if dR.nnz:
            ptr, n_cols = reduced.indptr, reduced.shape[1]
            touched = np.unique(dR.row)
            lens = (ptr[touched + 1] - ptr[touched]).astype(np.int64)
            # storage positions of the touched rows, row after row: their keys are sorted
            cand = np.repeat(ptr[touched] - np.cumsum(np.r_[0, lens[:-1]]), lens) \
                + np.arange(lens.sum())
            ckey = np.repeat(touched.astype(np.int64), lens) * n_cols + reduced.indices[cand]
            key = dR.row.astype(np.int64) * n_cols + dR.col
            if not len(ckey):
                return None
            at = np.minimum(np.searchsorted(ckey, key), len(ckey) - 1)
            if not np.array_equal(ckey[at], key):
                return None
            data[cand[at]] += dR.data  # (row, col) pairs of a COO product are unique
        return sp.csr_matrix((data, reduced.indices, reduced.indptr), shape=reduced.shape)

    def reduce_rhs(self, K: sp.csr_matrix, f: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``T^T (f - K g)`` (N, N·mm) for internal-order loads f (N, N·mm) and prescribed
        values g (mm, rad)."""
        r = f - K @ g if np.any(g) else f
        return self.T.T @ r

    def expand(self, u_r: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Full internal DOF vector ``T u_r + g`` (mm, rad) from reduced values ``u_r`` and
        prescribed values ``g``."""
        return self.T @ u_r + g
