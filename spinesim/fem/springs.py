"""Two-node axial springs: tension-only ligaments and fibres, compression-only contact gaps.

A spring joins node ``i`` to node ``j`` along a unit direction ``n`` (for a ligament the line
from ``i`` to ``j``; for a contact pair the contact normal, pointing from ``i`` across the gap
to ``j``). Its elongation is ``delta = n . (u_j - u_i)`` (mm) and its element matrix over the
DOFs ``(i x, y, z, j x, y, z)`` is ``k [[nn, -nn], [-nn, nn]]`` with ``nn = n n^T`` (N/mm).

The spring law is one-sided and piecewise linear. With ``sign = +1`` (tension-only) or ``-1``
(compression-only) and ``s`` the slack (tension) or initial gap (compression), the spring
engages when ``e = sign * delta - s > 0`` and then carries the axial force (N, tension positive)

    F = sign * sum_m k_m clip(e - b_m, 0, b_(m+1) - b_m),   b_0 = 0, b_M = inf,

i.e. stiffness ``k_0`` from engagement to the first break ``b_1`` (mm past engagement), ``k_1``
beyond it, and so on (a bilinear ligament law has one break at the transition elongation). The
stiffnesses must not decrease along the segments: the law is then convex, the spring energy
convex, and the equilibrium unique (what the damped fallback of the active-set solve relies on).
A negative slack is a pre-tension (a ligament pre-strain), a negative gap an initial overlap.

On one segment ``m`` the law is linear, ``F = k_m delta - c_m``; the active-set solve
(``spinesim.fem.active_set``) refills the element values with ``k_m`` (zero when disengaged)
through the model's fixed pattern and moves ``c_m`` to the right-hand side as nodal forces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from spinesim.fem.dofs import DofLayout
from spinesim.fem.system import ElementSet

if TYPE_CHECKING:
    from spinesim.fem.condense import CondensedSolution
    from spinesim.fem.static import StaticSolution

log = logging.getLogger(__name__)

KINDS = ("tension", "compression")


def spring_matrices(direction: ArrayLike, stiffness: ArrayLike) -> np.ndarray:
    """Element matrices (n, 6, 6), N/mm, of axial springs over ``(i x, y, z, j x, y, z)``.

    Parameters
    ----------
    direction : (n, 3)
        Spring axes (normalised here).
    stiffness : (n,) N/mm
        Axial stiffness of each spring (zero for a disengaged spring).
    """
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d, axis=1)[:, None]
    nn = np.asarray(stiffness, float).reshape(-1, 1, 1) * np.einsum("pi,pj->pij", d, d)
    return np.concatenate([np.concatenate([nn, -nn], axis=2),
                           np.concatenate([-nn, nn], axis=2)], axis=1)


def node_translations(solution: StaticSolution | CondensedSolution) -> np.ndarray:
    """Translations (n_nodes + n_extra, 3) mm of every model node of a ``StaticSolution`` or
    ``CondensedSolution`` (mesh nodes, then the 6-DOF nodes), indexed by model node id."""
    return np.vstack([solution.displacement, np.asarray(solution.node_dofs)[:, :3]])


def _arr(name: str, set_name: str, v: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.array(np.broadcast_to(np.asarray(v, float), shape))
    except ValueError:
        raise ValueError(f"spring set {set_name!r}: {name} of shape {np.shape(v)} does not fit "
                         f"{shape}") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"spring set {set_name!r}: {name} must be finite")
    return a


@dataclass(frozen=True, eq=False)
class SpringSet:
    """A set of one-sided axial springs between model nodes (one ``ElementSet`` of the model).

    Attributes
    ----------
    name : str
        Name of the model's element set holding these springs (e.g. ``"ligaments"``).
    nodes : (n, 2) int
        Model node ids ``(i, j)`` (mesh nodes, or 6-DOF nodes numbered after them).
    direction : (n, 3) or (3,)
        Spring axis / contact normal from ``i`` towards ``j`` (normalised here).
    stiffness : (n,), (n, m) or (1, m) N/mm
        Stiffness of each law segment, non-decreasing along the segments (m = 1: linear;
        (1, m): one law for all springs).
    kind : "tension" or "compression", or (n,) of them
        Tension-only (ligaments, fibres) or compression-only (contact) springs.
    slack_mm : (n,) mm
        Slack of tension springs / initial gap of contact springs (negative: pre-load).
    breaks_mm : (n, m-1) mm, optional
        Engagement (``e``, mm past the slack) at which segments 1.. begin; increasing, > 0.
    labels : (n,) str, optional
        Names for messages and tables (e.g. ``"ALL"``, ``"facet left"``); default ``name``.
    """

    name: str
    nodes: np.ndarray
    direction: np.ndarray
    stiffness: np.ndarray
    kind: str | np.ndarray = "tension"
    slack_mm: ArrayLike = 0.0
    breaks_mm: ArrayLike | None = None
    labels: ArrayLike | None = None
    _force_at_break: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nodes = np.asarray(self.nodes, np.int64)
        if nodes.ndim != 2 or nodes.shape[1] != 2:
            raise ValueError(f"spring set {self.name!r}: nodes must be (n, 2), got {nodes.shape}")
        n = len(nodes)
        d = _arr("direction", self.name, self.direction, (n, 3))
        norm = np.linalg.norm(d, axis=1)
        if np.any(norm == 0):
            raise ValueError(f"spring set {self.name!r}: zero direction for springs "
                             f"{np.flatnonzero(norm == 0)[:10].tolist()}")
        k = np.asarray(self.stiffness, float)
        k = _arr("stiffness", self.name, k.reshape(-1, 1) if k.ndim == 1 else k,
                 (n, k.shape[1] if k.ndim == 2 else 1))
        m = k.shape[1]
        if np.any(k < 0) or np.any(np.diff(k, axis=1) < 0):
            bad = np.flatnonzero(np.any(k < 0, axis=1) | np.any(np.diff(k, axis=1) < 0, axis=1))
            raise ValueError(f"spring set {self.name!r}: segment stiffnesses must be >= 0 and "
                             f"non-decreasing (convex law); springs {bad[:10].tolist()} are not")
        b = _arr("breaks_mm", self.name, np.zeros((n, 0)) if self.breaks_mm is None
                 else self.breaks_mm, (n, m - 1))
        if m > 1 and (np.any(b[:, 0] <= 0) or np.any(np.diff(b, axis=1) <= 0)):
            raise ValueError(f"spring set {self.name!r}: breaks_mm must be > 0 and increasing")
        kind = np.array(np.broadcast_to(np.asarray(self.kind, dtype=str), (n,)))
        if not np.all(np.isin(kind, KINDS)):
            raise ValueError(f"spring set {self.name!r}: kind must be one of {KINDS}, got "
                             f"{sorted(set(kind.tolist()) - set(KINDS))}")
        labels = np.array(np.broadcast_to(np.asarray(
            self.name if self.labels is None else self.labels, dtype=str), (n,)))
        for key, val in (("nodes", nodes), ("direction", d / norm[:, None]), ("stiffness", k),
                         ("kind", kind), ("slack_mm", _arr("slack_mm", self.name, self.slack_mm,
                                                            (n,))),
                         ("breaks_mm", b), ("labels", labels),
                         ("_force_at_break", np.concatenate(
                             [np.zeros((n, 1)), np.cumsum(k[:, :-1] * np.diff(
                                 np.concatenate([np.zeros((n, 1)), b], axis=1), axis=1),
                                 axis=1)], axis=1))):
            object.__setattr__(self, key, val)

    @classmethod
    def between(cls, name: str, points: ArrayLike, nodes: ArrayLike, stiffness: ArrayLike,
                **kw) -> SpringSet:
        """Springs along the lines from node ``i`` to node ``j`` (``points``: positions (mm) by
        model node id; ``stiffness`` N/mm); the other keywords as for the class. Coincident
        nodes need an explicit ``direction`` (use the class directly)."""
        p = np.asarray(points, float)
        nodes = np.asarray(nodes, np.int64)
        d = p[nodes[:, 1]] - p[nodes[:, 0]]
        zero = np.linalg.norm(d, axis=1) == 0
        if np.any(zero):
            raise ValueError(f"spring set {name!r}: springs {np.flatnonzero(zero)[:10].tolist()} "
                             "join coincident nodes; give their direction explicitly")
        return cls(name, nodes, d, stiffness, **kw)

    # ------------------------------------------------------------------ geometry
    @property
    def n(self) -> int:
        """Number of springs."""
        return len(self.nodes)

    @property
    def sign(self) -> np.ndarray:
        """+1 for tension-only, -1 for compression-only springs, (n,)."""
        return np.where(self.kind == "tension", 1.0, -1.0)

    def dofs(self, layout: DofLayout | int) -> np.ndarray:
        """Model DOF ids (n, 6): translations of node i, then of node j."""
        lay = DofLayout(layout) if isinstance(layout, (int, np.integer)) else layout
        return np.concatenate([lay.dofs(self.nodes[:, 0], (0, 1, 2), what=f"spring {self.name!r}"),
                               lay.dofs(self.nodes[:, 1], (0, 1, 2), what=f"spring {self.name!r}")],
                              axis=1)

    def element_set(self, layout: DofLayout | int) -> ElementSet:
        """The model's element set for these springs (pattern entries; values refilled later)."""
        return ElementSet(self.name, self.dofs(layout))

    def matrices(self, stiffness: ArrayLike) -> np.ndarray:
        """Element matrices (n, 6, 6) N/mm for per-spring stiffnesses ``stiffness`` (n,)."""
        return spring_matrices(self.direction, stiffness)

    def default_state(self) -> np.ndarray:
        """The usual starting segments (n,): tension springs engaged on their first segment,
        contacts open (-1)."""
        return np.where(self.kind == "tension", 0, -1)

    def matrices_for(self, state: ArrayLike) -> np.ndarray:
        """Element matrices (n, 6, 6) N/mm of the law segments ``state`` (-1: zero), e.g. the
        ``element_values`` to build a model with (it factorizes at construction)."""
        return self.matrices(self.linearised(state)[0])

    def elongation(self, translations: ArrayLike) -> np.ndarray:
        """``delta = n . (u_j - u_i)`` (n,) mm from node translations (n_nodes, 3) mm."""
        u = np.asarray(translations, float)
        return np.einsum("pi,pi->p", self.direction, u[self.nodes[:, 1]] - u[self.nodes[:, 0]])

    # ------------------------------------------------------------------ law
    def engagement(self, delta: ArrayLike) -> np.ndarray:
        """``e = sign * delta - slack`` (n,) mm: > 0 where the spring is engaged."""
        return self.sign * np.asarray(delta, float) - self.slack_mm

    def state(self, delta: ArrayLike) -> np.ndarray:
        """Law segment of each spring (n,) int at elongation ``delta`` (n,) mm: -1 disengaged,
        else 0 .. m-1."""
        e = self.engagement(delta)
        seg = np.sum(self.breaks_mm < e[:, None], axis=1)
        return np.where(e > 0, seg, -1)

    def force(self, delta: ArrayLike) -> np.ndarray:
        """Axial force (n,) N at elongation ``delta`` (n,) mm, tension positive (contact forces
        are <= 0)."""
        e = self.engagement(delta)
        b0 = np.concatenate([np.zeros((self.n, 1)), self.breaks_mm], axis=1)
        w = np.concatenate([np.diff(b0, axis=1), np.full((self.n, 1), np.inf)], axis=1)
        return self.sign * np.sum(self.stiffness * np.clip(e[:, None] - b0, 0.0, w), axis=1)

    def energy(self, delta: ArrayLike) -> np.ndarray:
        """Elastic energy (n,) N·mm stored in each spring at elongation ``delta`` (n,) mm."""
        e = self.engagement(delta)
        b0 = np.concatenate([np.zeros((self.n, 1)), self.breaks_mm], axis=1)
        w = np.concatenate([np.diff(b0, axis=1), np.full((self.n, 1), np.inf)], axis=1)
        c = np.clip(e[:, None] - b0, 0.0, w)
        beyond = np.maximum(e[:, None] - b0 - w, 0.0) * np.where(np.isfinite(w), w, 0.0)
        return np.sum(self.stiffness * (0.5 * c * c + beyond), axis=1)

    def linearised(self, state: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Stiffness ``k`` (n,) N/mm and offset ``c`` (n,) N of the law on segment ``state``,
        ``F = k delta - c``; both zero where ``state`` is -1 (disengaged)."""
        s = np.asarray(state, np.int64)
        on = s >= 0
        m = np.where(on, s, 0)
        rows = np.arange(self.n)
        k = np.where(on, self.stiffness[rows, m], 0.0)
        b = np.concatenate([np.zeros((self.n, 1)), self.breaks_mm], axis=1)[rows, m]
        c = np.where(on, self.sign * (k * (self.slack_mm + b) - self._force_at_break[rows, m]),
                     0.0)
        return k, c

    def nodal_forces(self, axial: ArrayLike, layout: DofLayout | int) -> np.ndarray:
        """Model-DOF vector (n_dofs,) N of ``sum_p axial_p b_p`` with ``b_p = (-n_p, n_p)`` on
        the DOFs of nodes (i, j): the internal-force vector of springs carrying the axial
        forces ``axial`` (n,) N, as ``K u`` gives it for a linear spring. The forces the springs
        exert on their nodes are its negative."""
        lay = DofLayout(layout) if isinstance(layout, (int, np.integer)) else layout
        b = np.concatenate([-self.direction, self.direction], axis=1)
        w = (np.asarray(axial, float)[:, None] * b).ravel()
        return np.bincount(self.dofs(lay).ravel(), weights=w, minlength=lay.n_dofs)

    def where(self, index: ArrayLike, points: ArrayLike | None = None) -> list[str]:
        """Short descriptions of springs ``index`` for messages: label, nodes, midpoint (mm)."""
        out = []
        p = None if points is None else np.asarray(points, float)
        for q in np.asarray(index, np.int64).ravel():
            i, j = self.nodes[q]
            at = "" if p is None else " at ({:.3g}, {:.3g}, {:.3g}) mm".format(
                *(0.5 * (p[i] + p[j])))
            out.append(f"{self.name}[{q}] {self.labels[q]} nodes {i}-{j}{at}")
        return out


def spring_forces(springs: SpringSet, solution: StaticSolution | CondensedSolution
                  ) -> np.ndarray:
    """Axial forces (n,) N (tension positive) of ``springs`` in a ``StaticSolution``."""
    return springs.force(springs.elongation(node_translations(solution)))
