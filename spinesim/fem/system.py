"""The global system: solid stiffness plus small dense element sets (beams, interface springs,
couplings) over a mixed 3-/6-DOF layout, in one CSR matrix whose pattern and scatter maps are
built once. Refilling the solid moduli or any element set's values never rebuilds the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from spinesim.fem.assembler import Assembler
from spinesim.fem.dofs import DofLayout
from spinesim.fem.materials import Material


@dataclass(frozen=True, eq=False)
class ElementSet:
    """A group of small dense elements (beams, springs, couplings) over model DOFs.

    Attributes
    ----------
    name : str
        Key used to refill the values, e.g. ``"rods"`` or ``"screw_interface"``.
    dofs : (n_elements, k) int
        Model DOF ids of each element (see ``DofLayout``), in the order of its matrix rows.
    """

    name: str
    dofs: np.ndarray

    def __post_init__(self) -> None:
        d = np.asarray(self.dofs, np.int64)
        if d.ndim != 2:
            raise ValueError(f"element set {self.name!r}: dofs must be (n_elements, k), got {d.shape}")
        object.__setattr__(self, "dofs", d)


def _keys(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    return rows.astype(np.int64) * n + cols.astype(np.int64)


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted unique values of an int64 array by one sort: numpy 2's hash-based ``np.unique``
    takes 25x as long on the 5.6 million keys of a segment's screw-interface springs."""
    s = np.sort(keys)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


class SystemAssembler:
    """Solid assembler + element sets on one pattern (internal DOF numbering).

    The solid DOFs are numbered as the solid assembler's internal (RCM) order; 6-DOF nodes
    follow in model order. ``dof_rank[d]`` is the internal index of model DOF ``d``.
    """

    def __init__(self, assembler: Assembler, layout: DofLayout,
                 sets: Sequence[ElementSet] = ()) -> None:
        self.assembler = assembler
        self.layout = layout
        n = layout.n_dofs
        self.dof_rank = np.concatenate([assembler.user_dofs(),
                                        np.arange(3 * layout.n_solid, n, dtype=np.int64)])
        self.sets = {s.name: s for s in sets}
        if len(self.sets) != len(sets):
            raise ValueError("element set names must be unique")
        for s in sets:
            if s.dofs.size and (s.dofs.min() < 0 or s.dofs.max() >= n):
                raise ValueError(f"element set {s.name!r} refers to DOFs outside 0..{n - 1}")
        self._values = {s.name: np.zeros((len(s.dofs), s.dofs.shape[1], s.dofs.shape[1]))
                        for s in sets}
        Ks = assembler.matrix
        self.trivial = not sets and layout.n_extra == 0
        if self.trivial:  # solid only: the solid matrix is the system matrix
            self.matrix = Ks
            return
        srows = np.repeat(np.arange(Ks.shape[0]), np.diff(Ks.indptr))
        solid_keys = _keys(srows, Ks.indices, n)
        set_keys = {}
        for name, s in self.sets.items():
            d = self.dof_rank[s.dofs]
            k = d.shape[1]
            set_keys[name] = _keys(np.repeat(d, k, axis=1).ravel(), np.tile(d, (1, k)).ravel(), n)
        # the solid keys are sorted and unique (CSR with sorted columns); merge in the few
        # element-set entries that are new, without sorting the whole pattern again
        extra = _unique(np.concatenate(list(set_keys.values()))) if set_keys else \
            np.zeros(0, np.int64)
        if len(solid_keys):
            pos = np.minimum(np.searchsorted(solid_keys, extra), len(solid_keys) - 1)
            extra = extra[solid_keys[pos] != extra]
        keys = np.insert(solid_keys, np.searchsorted(solid_keys, extra), extra)
        rows, cols = keys // n, keys % n
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        idx_type = np.int32 if len(keys) < 2**31 - 1 else np.int64
        self.matrix = sp.csr_matrix((np.zeros(len(keys)), cols.astype(idx_type),
                                     indptr.astype(idx_type)), shape=(n, n))
        self._solid_map = np.searchsorted(keys, solid_keys)
        self._set_maps = {name: np.searchsorted(keys, k) for name, k in set_keys.items()}

    def assemble(self, material: Material | None = None, **set_values: np.ndarray
                 ) -> sp.csr_matrix:
        """Refill the solid values (if ``material`` is given) and/or element sets' values
        (``name=(n_elements, k, k)`` arrays, N/mm, N, N·mm per the DOFs), then the system."""
        if material is not None:
            self.assembler.assemble(material)
        self.set_values(**set_values)
        if self.trivial:
            return self.matrix
        data = self.matrix.data
        data[:] = 0.0
        data[self._solid_map] = self.assembler.matrix.data
        for name, m in self._set_maps.items():
            np.add.at(data, m, self._values[name].ravel())
        return self.matrix

    def set_values(self, **set_values: np.ndarray) -> None:
        """Store new values of element sets (``name=(n_elements, k, k)`` arrays, N/mm, N, N·mm
        per the DOFs) without assembling."""
        for name, v in set_values.items():
            if name not in self.sets:
                raise KeyError(f"no element set {name!r}; sets: {sorted(self.sets)}")
            v = np.asarray(v, float)
            if v.shape != self._values[name].shape:
                raise ValueError(f"element set {name!r}: values must have shape "
                                 f"{self._values[name].shape}, got {v.shape}")
            self._values[name] = v

    def values(self, name: str) -> np.ndarray:
        """The stored values (n_elements, k, k) of element set ``name``."""
        if name not in self.sets:
            raise KeyError(f"no element set {name!r}; sets: {sorted(self.sets)}")
        return self._values[name]

    def node_graph(self) -> sp.csr_matrix:
        """Node coupling graph over all model nodes in internal node order (solid nodes in the
        assembler's order, then 6-DOF nodes)."""
        lay = self.layout
        g = self.assembler.node_graph()
        g = sp.block_diag([g, sp.csr_matrix((lay.n_extra, lay.n_extra))], format="csr")
        if self.sets:
            inv = np.empty(lay.n_dofs, np.int64)
            inv[self.dof_rank] = np.arange(lay.n_dofs)
            rows, cols = [], []
            for s in self.sets.values():
                nodes = self.internal_node_of_dof(self.dof_rank[s.dofs])
                k = nodes.shape[1]
                rows.append(np.repeat(nodes, k, axis=1).ravel())
                cols.append(np.tile(nodes, (1, k)).ravel())
            r, c = np.concatenate(rows), np.concatenate(cols)
            g = g + sp.csr_matrix((np.ones(len(r)), (r, c)), shape=g.shape)
        return sp.csr_matrix(g)

    def internal_node_of_dof(self, internal_dofs: np.ndarray) -> np.ndarray:
        """Internal node index of internal DOFs (solid nodes by 3, then 6-DOF nodes by 6)."""
        return self.layout.node_of_dof(internal_dofs)
