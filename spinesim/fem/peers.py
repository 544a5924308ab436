"""Bridges that set up spinesim's linear-elastic problems in the peer codes sfepy and scikit-fem.

The peers are used to verify spinesim's FE core (same matrix, same displacements) and to time it
(``benchmarks/assembly.py``). They are optional dependencies (extras ``test`` / ``bench``), so
they are imported lazily inside the functions here.

Orderings
---------
Every matrix returned here is in spinesim's user convention: DOF ``3*node + component`` with
``node`` in the mesh's (file's) node order.

* sfepy numbers the DOFs of a vector field ``n_components * field_node + component`` (see
  ``sfepy.discrete.common.dof_info``), and its field nodes are the mesh vertices renumbered by
  ``field.vertex_remap`` (vertex -> field node; the identity for a P1 field over the whole mesh,
  but it is applied anyway). sfepy's ``3_8`` local node order equals meshio/VTK's. sfepy's
  built-in ``3_8`` rules of order 2, 3 and 5 are *not* tensor Gauss rules, so the 2x2x2 Gauss
  rule is passed explicitly as a custom ``Integral``.
* scikit-fem numbers the DOFs of ``ElementVector(P1/Q1)`` node by node, ``basis.nodal_dofs``
  has shape (3, n_nodes); it is read back rather than assumed. Its hexahedron local node order
  differs from VTK: ``t_skfem = cells_vtk[:, INV_HEX_MAPPING]`` as in ``skfem.io.meshio``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from spinesim.mesh.mesh import Mesh

log = logging.getLogger(__name__)

#: meshio/VTK hexahedron corner order -> scikit-fem MeshHex1 order (skfem.io.meshio).
SKFEM_HEX_ORDER = np.array([0, 4, 3, 1, 7, 5, 2, 6])
#: 2x2x2 Gauss rule on sfepy's reference hexahedron [0, 1]^3 (weights sum to its volume 1).
_G = 0.5 * np.array([1.0 - 1.0 / np.sqrt(3.0), 1.0 + 1.0 / np.sqrt(3.0)])
GAUSS_2X2X2_UNIT = np.array([[a, b, c] for a in _G for b in _G for c in _G])
_SFEPY_DESC = {"tetra": "3_4", "hexahedron": "3_8"}


def _require(name: str) -> Any:
    try:
        if name == "sfepy":
            # sfepy prints notes about optional backends (jax) when its terms are imported
            with contextlib.redirect_stdout(io.StringIO()):
                import sfepy.terms  # noqa: F401
        return __import__(name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"spinesim.fem.peers needs {name!r}, a peer code used only for verification and "
            f"benchmarks; install it with the extras: pip install 'spinesim[test]' (or "
            f"'spinesim[bench]')") from exc


def _single_block(mesh: Mesh) -> tuple[str, np.ndarray]:
    """Cell type and connectivity of the solid blocks (one linear type: tetra or hexahedron)."""
    blocks = mesh.solid_blocks
    types = {b.type for b in blocks}
    if len(types) != 1 or next(iter(types)) not in _SFEPY_DESC:
        raise NotImplementedError(
            f"peer bridges support meshes of one linear solid type (tetra or hexahedron), "
            f"got {sorted(types)}")
    return blocks[0].type, np.concatenate([b.cells for b in blocks])


def lame(E: ArrayLike, nu: ArrayLike, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell Lame parameters (lambda, mu) in MPa from scalar or per-cell E, nu."""
    E = np.broadcast_to(np.asarray(E, dtype=np.float64), (n_cells,))
    nu = np.broadcast_to(np.asarray(nu, dtype=np.float64), (n_cells,))
    return E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))


def _quiet_sfepy() -> None:
    from sfepy.base.base import output

    output.set_output(quiet=True)


# ---------------------------------------------------------------------------------- sfepy
class SfepyAssembly:
    """The isotropic linear-elastic stiffness of ``mesh`` assembled by sfepy, set up once.

    ``setup`` builds the sfepy mesh, domain, P1/Q1 vector field, ``dw_lin_elastic_iso`` term,
    the problem and the CSR graph (``Equations.create_matrix_graph``). ``assemble`` evaluates the
    material in the quadrature points and assembles with
    ``Equations.evaluate(mode='weak', dw_mode='matrix', asm_obj=K)`` into the preallocated
    matrix. Later calls write the new Lame parameters into the material's quadrature-point
    arrays in place (skipping sfepy's re-evaluation of the physical quadrature points), zero
    ``K.data`` and re-evaluate into the same matrix: the fastest refill sfepy offers.

    Parameters
    ----------
    mesh : Mesh
        tet4 (P1, 1-point rule) or hex8 (Q1, 2x2x2 Gauss) mesh.
    ebc_nodes : array of int, optional
        Nodes with u = 0 (an ``EssentialBC``); the matrix then covers the active DOFs only and
        ``to_user`` does not apply. For ``sfepy_solve``.
    nodal_forces : array (n_nodes, 3), optional
        Point loads in N (a ``dw_point_load`` term on the loaded vertices). For ``sfepy_solve``.

    Attributes
    ----------
    setup_seconds, first_seconds : float
        Wall times of ``setup`` and of the first ``assemble``.
    """

    def __init__(self, mesh: Mesh, ebc_nodes: ArrayLike | None = None,
                 nodal_forces: ArrayLike | None = None) -> None:
        _require("sfepy")
        self.mesh = mesh
        self.cell_type, self.cells = _single_block(mesh)
        self.n_cells = len(self.cells)
        self.ebc_nodes = None if ebc_nodes is None else np.asarray(ebc_nodes, dtype=np.int64)
        self.forces = (None if nodal_forces is None else
                       np.asarray(nodal_forces, dtype=np.float64).reshape(mesh.n_nodes, 3))
        self.matrix: sp.csr_array | None = None
        self.setup_seconds = float("nan")
        self.first_seconds = float("nan")
        self._lam = np.zeros(self.n_cells)
        self._mu = np.zeros(self.n_cells)
        self._assembled = False

    # ------------------------------------------------------------------ set-up
    def setup(self) -> "SfepyAssembly":
        """Mesh -> domain -> field -> equations -> matrix graph."""
        from sfepy.discrete import (Equation, Equations, FieldVariable, Function, Integral,
                                    Material, Problem)
        from sfepy.discrete.conditions import Conditions, EssentialBC
        from sfepy.discrete.fem import FEDomain, Field
        from sfepy.discrete.fem import Mesh as SMesh
        from sfepy.terms import Term

        _quiet_sfepy()
        t0 = time.perf_counter()
        conn = np.ascontiguousarray(self.cells, dtype=np.int32)
        smesh = SMesh.from_data("spinesim", self.mesh.points, None, [conn],
                                [np.zeros(len(conn), dtype=np.int32)],
                                [_SFEPY_DESC[self.cell_type]])
        self.domain = domain = FEDomain("domain", smesh)
        omega = domain.create_region("Omega", "all")
        self.field = field = Field.from_args("fu", np.float64, "vector", omega, approx_order=1)
        self.u = u = FieldVariable("u", "unknown", field)
        v = FieldVariable("v", "test", field, primary_var_name="u")
        if self.cell_type == "tetra":
            integral = Integral("i", order=1)  # centroid rule, exact for P1
        else:
            integral = Integral("i", coors=GAUSS_2X2X2_UNIT, weights=np.full(8, 1.0 / 8.0))

        def lame_qp(ts: Any, coors: np.ndarray, mode: str | None = None, **kw: Any) -> dict | None:
            if mode != "qp":
                return None
            n_qp = len(coors) // self.n_cells
            return {"lam": np.repeat(self._lam, n_qp)[:, None, None],
                    "mu": np.repeat(self._mu, n_qp)[:, None, None]}

        self.material = Material("m", function=Function("lame_qp", lame_qp))
        term = Term.new("dw_lin_elastic_iso(m.lam, m.mu, v, u)", integral, omega,
                        m=self.material, v=v, u=u)
        loaded = (np.zeros(0, np.int64) if self.forces is None else
                  np.flatnonzero(np.any(self.forces != 0.0, axis=1)))
        if len(loaded):
            gamma = self._vertex_region("Loaded", loaded)
            # dw_point_load: one row per region vertex, in the region's (sorted) vertex order
            load = Material("load", values={".val": self.forces[gamma.vertices]})
            pl = Term.new("dw_point_load(load.val, v)", integral, gamma, load=load, v=v)
            term = term - pl
        self.equations = eqs = Equations([Equation("balance", term)])
        self.problem = pb = Problem("spinesim_peer", equations=eqs, active_only=True)
        ebcs = []
        if self.ebc_nodes is not None and len(self.ebc_nodes):
            fixed = self._vertex_region("Fixed", self.ebc_nodes)
            ebcs.append(EssentialBC("fix", fixed, {"u.all": 0.0}))
        pb.set_bcs(ebcs=Conditions(ebcs))
        pb.set_ics(Conditions([]))
        pb.time_update()
        self.matrix = eqs.create_matrix_graph(verbose=False)
        self.setup_seconds = time.perf_counter() - t0
        return self

    def set_material(self, E: ArrayLike, nu: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Store per-cell Lame parameters (MPa) from ``E`` (MPa) and ``nu`` (-) for the next
        material evaluation; returns them."""
        lam, mu = lame(E, nu, self.n_cells)
        self._lam[:], self._mu[:] = lam, mu
        return lam, mu

    def _vertex_region(self, name: str, nodes: np.ndarray) -> Any:
        from sfepy.discrete import Function

        ids = np.unique(np.asarray(nodes, dtype=np.int64))
        sel = Function(name, lambda coors, domain=None: ids)
        return self.domain.create_region(name, f"vertices by {name}", "vertex",
                                         functions={name: sel})

    # ------------------------------------------------------------------ assembly
    def assemble(self, E: ArrayLike, nu: ArrayLike) -> sp.csr_array:
        """Assemble (first call) or refill (later calls) K (N/mm) in sfepy's DOF order from
        per-cell ``E`` (MPa) and ``nu`` (-)."""
        if self.matrix is None:
            self.setup()
        t0 = time.perf_counter()
        lam, mu = self.set_material(E, nu)
        mat = self.material
        if not self._assembled:
            self.problem.update_materials(verbose=False)
        else:
            for data in mat.datas.values():  # in place: (n_cells, n_qp, 1, 1) per key
                n_qp = data["lam"].shape[1]
                data["lam"][...] = np.repeat(lam, n_qp).reshape(data["lam"].shape)
                data["mu"][...] = np.repeat(mu, n_qp).reshape(data["mu"].shape)
        K = self.matrix
        K.data[:] = 0.0
        self.equations.evaluate(mode="weak", dw_mode="matrix", asm_obj=K)
        if not self._assembled:
            self.first_seconds = time.perf_counter() - t0
            self._assembled = True
        return K

    # ------------------------------------------------------------------ orderings
    def user_dofs(self) -> np.ndarray:
        """sfepy DOF index of every user DOF ``3*node + component`` (no EBCs)."""
        fnode = np.asarray(self.field.vertex_remap)[: self.mesh.n_nodes]
        return (3 * fnode[:, None] + np.arange(3)).ravel()

    def to_user(self, K: sp.spmatrix | None = None) -> sp.csr_matrix:
        """The matrix in the mesh's node order, DOF ``3*node + component``."""
        K = self.matrix if K is None else K
        return _permuted(K, self.user_dofs())


def sfepy_stiffness(mesh: Mesh, E: ArrayLike, nu: ArrayLike) -> sp.csr_matrix:
    """Isotropic linear-elastic stiffness (N/mm) of a tet4 or hex8 mesh assembled by sfepy.

    Parameters
    ----------
    mesh : Mesh
        One linear solid type: tetra (P1, 1-point rule) or hexahedron (Q1, 2x2x2 Gauss).
    E, nu : scalar or array (n_solid_cells,)
        Young's modulus (MPa) and Poisson's ratio, per cell in block order.

    Returns
    -------
    scipy.sparse.csr_matrix
        DOF order ``3*node + component`` in the mesh's node order.
    """
    asm = SfepyAssembly(mesh).setup()
    asm.assemble(E, nu)
    return asm.to_user()


def sfepy_solve(mesh: Mesh, E: ArrayLike, nu: ArrayLike, fixed_nodes: ArrayLike,
                nodal_forces: ArrayLike) -> np.ndarray:
    """Solve linear elasticity in sfepy: u = 0 on ``fixed_nodes``, point loads at nodes.

    The loads enter sfepy as a ``dw_point_load`` term on the vertex region of the loaded nodes,
    the Dirichlet condition as an ``EssentialBC``; sfepy's Newton solver with ``ScipyDirect``
    (one iteration for this linear problem) solves it.

    Parameters
    ----------
    mesh : Mesh
        tet4 or hex8 mesh.
    E, nu : scalar or array (n_solid_cells,)
        Material, as in ``sfepy_stiffness``.
    fixed_nodes : array of int
        Node ids (mesh order) with all three displacement components fixed to zero.
    nodal_forces : array (n_nodes, 3)
        Nodal forces in N.

    Returns
    -------
    ndarray, shape (n_nodes, 3)
        Displacement in mm, mesh node order.
    """
    from sfepy.base.base import IndexedStruct
    from sfepy.solvers.ls import ScipyDirect
    from sfepy.solvers.nls import Newton

    asm = SfepyAssembly(mesh, ebc_nodes=fixed_nodes, nodal_forces=nodal_forces)
    asm.set_material(E, nu)
    pb = asm.setup().problem
    ls = ScipyDirect({})
    nls = Newton({"i_max": 1, "eps_a": 1e-300, "eps_r": 1e-300}, lin_solver=ls,
                 status=IndexedStruct())
    pb.set_solver(nls)
    state = pb.solve(save_results=False)
    u = state.get_state_parts()["u"].reshape(-1, 3)  # field node order
    fnode = np.asarray(asm.field.vertex_remap)[: mesh.n_nodes]
    return u[fnode]


# ------------------------------------------------------------------------------ scikit-fem
class SkfemAssembly:
    """The isotropic linear-elastic stiffness assembled by scikit-fem.

    ``setup`` builds ``MeshTet``/``MeshHex`` and the ``Basis`` of ``ElementVector(P1/Q1)``
    (shape-function gradients and Jacobians at the quadrature points); ``assemble`` runs
    ``skfem.asm`` of the linear-elasticity form with per-element Lame parameters (scikit-fem
    has no in-place refill, so every call assembles a new matrix with the same basis).

    Parameters
    ----------
    mesh : Mesh
        tet4 or hex8 mesh.
    intorder : int, optional
        Quadrature order; default: scikit-fem's default for the element (2 x max degree:
        4-point rule for P1 tets, 4x4x4 Gauss for Q1 hexes). ``1`` is exact for P1; ``3`` gives
        2x2x2 Gauss on hexes (spinesim's rule).
    """

    def __init__(self, mesh: Mesh, intorder: int | None = None) -> None:
        _require("skfem")
        self.mesh = mesh
        self.cell_type, self.cells = _single_block(mesh)
        self.n_cells = len(self.cells)
        self.intorder = intorder
        self.basis: Any = None
        self.setup_seconds = float("nan")
        self.first_seconds = float("nan")
        self._form: Callable | None = None

    def setup(self) -> "SkfemAssembly":
        """Mesh -> ``MeshTet``/``MeshHex`` -> ``Basis`` and the elasticity form; returns self."""
        import skfem
        from skfem.helpers import ddot, sym_grad, trace

        t0 = time.perf_counter()
        p = np.ascontiguousarray(self.mesh.points.T)
        if self.cell_type == "tetra":
            m = skfem.MeshTet(p, np.ascontiguousarray(self.cells.T))
            elem = skfem.ElementVector(skfem.ElementTetP1())
        else:
            m = skfem.MeshHex(p, np.ascontiguousarray(self.cells[:, SKFEM_HEX_ORDER].T))
            elem = skfem.ElementVector(skfem.ElementHex1())
        kw = {} if self.intorder is None else {"intorder": self.intorder}
        self.basis = skfem.Basis(m, elem, **kw)

        @skfem.BilinearForm
        def elasticity(u: Any, v: Any, w: Any) -> Any:
            eu, ev = sym_grad(u), sym_grad(v)
            return w.lam * trace(eu) * trace(ev) + 2.0 * w.mu * ddot(eu, ev)

        self._form = elasticity
        self.setup_seconds = time.perf_counter() - t0
        return self

    def assemble(self, E: ArrayLike, nu: ArrayLike) -> sp.csr_matrix:
        """Assemble K (N/mm; a new matrix each call) in scikit-fem's DOF order from per-cell
        ``E`` (MPa) and ``nu`` (-)."""
        import skfem

        if self.basis is None:
            self.setup()
        t0 = time.perf_counter()
        lam, mu = lame(E, nu, self.n_cells)
        n_qp = self.basis.X.shape[-1]
        K = skfem.asm(self._form, self.basis,
                      lam=np.broadcast_to(lam[:, None], (self.n_cells, n_qp)),
                      mu=np.broadcast_to(mu[:, None], (self.n_cells, n_qp)))
        if np.isnan(self.first_seconds):
            self.first_seconds = time.perf_counter() - t0
        return K

    def user_dofs(self) -> np.ndarray:
        """scikit-fem DOF index of every user DOF ``3*node + component``."""
        return np.ascontiguousarray(self.basis.nodal_dofs.T).ravel()

    def to_user(self, K: sp.spmatrix) -> sp.csr_matrix:
        """``K`` in the mesh's node order, DOF ``3*node + component``."""
        return _permuted(K, self.user_dofs())


def skfem_stiffness(mesh: Mesh, E: ArrayLike, nu: ArrayLike,
                    intorder: int | None = None) -> sp.csr_matrix:
    """Isotropic linear-elastic stiffness (N/mm) of a tet4 or hex8 mesh assembled by scikit-fem.

    Parameters
    ----------
    mesh : Mesh
        tet4 or hex8 mesh.
    E, nu : scalar or array (n_solid_cells,)
        Young's modulus (MPa) and Poisson's ratio, per cell in block order.
    intorder : int, optional
        scikit-fem quadrature order (see ``SkfemAssembly``); use 3 on hexes for 2x2x2 Gauss.

    Returns
    -------
    scipy.sparse.csr_matrix
        DOF order ``3*node + component`` in the mesh's node order.
    """
    asm = SkfemAssembly(mesh, intorder).setup()
    return asm.to_user(asm.assemble(E, nu))


def _permuted(K: sp.spmatrix, idx: np.ndarray) -> sp.csr_matrix:
    """``K[idx][:, idx]`` as CSR, without copying twice when ``idx`` is the identity."""
    K = sp.csr_matrix(K)
    if np.array_equal(idx, np.arange(len(idx))):
        return K
    return sp.csr_matrix(K[idx][:, idx])


def max_rel_diff(A: sp.spmatrix, B: sp.spmatrix) -> float:
    """``max|A - B| / max|B|`` over all entries (0 for two zero matrices)."""
    scale = float(abs(B).max())
    diff = float(abs(sp.csr_matrix(A) - sp.csr_matrix(B)).max())
    return diff / scale if scale else diff
