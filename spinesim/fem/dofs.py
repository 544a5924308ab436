"""Global DOF layout: solid nodes carry 3 translations; beam and reference nodes carry 6
(translations, then rotations about x, y, z). DOFs of solid nodes come first (``3*node + c``),
then those of the 6-DOF nodes (``3*n_solid + 6*k + c`` for 6-DOF node k). Model node ids follow
the same order: solid nodes ``0 .. n_solid-1``, then 6-DOF nodes ``n_solid ..``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinesim.errors import ConstraintError

COMPONENT_NAMES = ("x", "y", "z", "rx", "ry", "rz")


@dataclass(frozen=True)
class DofLayout:
    """Numbers of solid (3-DOF) and beam/reference (6-DOF) nodes."""

    n_solid: int
    n_extra: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of model nodes: solid nodes, then 6-DOF nodes."""
        return self.n_solid + self.n_extra

    @property
    def n_dofs(self) -> int:
        """Number of global DOFs: 3 per solid node, 6 per 6-DOF node."""
        return 3 * self.n_solid + 6 * self.n_extra

    def dofs(self, nodes: np.ndarray, components: np.ndarray | tuple[int, ...],
             what: str = "DOF") -> np.ndarray:
        """Global DOF ids, shape (len(nodes), len(components)); rotations only on 6-DOF nodes."""
        nodes = np.asarray(nodes, np.int64).ravel()
        comps = np.asarray(components, np.int64).ravel()
        bad = (nodes < 0) | (nodes >= self.n_nodes)
        if bad.any():
            raise ConstraintError(f"{what}: node ids outside 0..{self.n_nodes - 1}: "
                                  f"{nodes[bad][:10].tolist()}")
        solid = nodes < self.n_solid
        if np.any(comps > 2) and solid.any():
            raise ConstraintError(f"{what}: rotation components {sorted(set(comps[comps > 2]))} "
                                  f"on solid nodes {nodes[solid][:10].tolist()} (3 DOFs only)")
        base = np.where(solid, 3 * nodes, 3 * self.n_solid + 6 * (nodes - self.n_solid))
        return base[:, None] + comps[None, :]

    def node_of_dof(self, dofs: np.ndarray) -> np.ndarray:
        """Model node id of each global DOF."""
        dofs = np.asarray(dofs, np.int64)
        split = 3 * self.n_solid
        return np.where(dofs < split, dofs // 3, self.n_solid + (dofs - split) // 6)

    def describe(self, dof: int) -> str:
        """Global DOF ``dof`` in words for messages, e.g. ``"node 12 z"``."""
        node = int(self.node_of_dof(np.array([dof]))[0])
        comp = dof % 3 if dof < 3 * self.n_solid else (dof - 3 * self.n_solid) % 6
        return f"node {node} {COMPONENT_NAMES[comp]}"

    def rigid_modes(self, points: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
        """(n_dofs, 6) rigid-body modes about ``center`` (default the centroid of ``points``,
        (n_nodes, 3) mm): translations, then rotations (mm/rad on translation DOFs, 1 on
        rotation DOFs)."""
        points = np.asarray(points, float)
        x = points - (points.mean(axis=0) if center is None else np.asarray(center, float))
        R = np.zeros((self.n_dofs, 6))
        t = self.dofs(np.arange(self.n_nodes), (0, 1, 2))  # (n, 3)
        for i in range(3):
            R[t[:, i], i] = 1.0
        R[t[:, 1], 3], R[t[:, 2], 3] = -x[:, 2], x[:, 1]
        R[t[:, 0], 4], R[t[:, 2], 4] = x[:, 2], -x[:, 0]
        R[t[:, 0], 5], R[t[:, 1], 5] = -x[:, 1], x[:, 0]
        if self.n_extra:
            r = self.dofs(np.arange(self.n_solid, self.n_nodes), (3, 4, 5))
            for i in range(3):
                R[r[:, i], 3 + i] = 1.0
        return R
