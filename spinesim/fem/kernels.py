"""Compiled element kernels: compute each element's stiffness and add it straight into the CSR
values (fused compute-and-scatter), so no (n_elements, ndof_e, ndof_e) array ever exists.

Material law: orthotropic in a local frame (covers isotropic with the identity frame and
transverse isotropy with a per-cell frame). Per cell ``consts`` holds C11, C22, C33, C12, C13,
C23, G23, G13, G12 (MPa). Optional mean-dilatation B-bar (Hughes 1980) replaces the volumetric
strain by its element mean so that nearly incompressible materials do not lock.

Threads own contiguous row ranges (see ``pattern.thread_partition``): an element on a range
boundary is computed by both threads, each adding only the rows it owns. No atomics, and the
result does not depend on the number of threads beyond round-off order.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _block(ga, gb, C, G, out, scale):
    """Add scale * (B_a^T D B_b) for an orthotropic D in the gradients' frame to out (3x3)."""
    for i in range(3):
        for j in range(3):
            v = C[i, j] * ga[i] * gb[j]
            if i == j:
                for m in range(3):
                    if m != i:
                        v += G[i, m] * ga[m] * gb[m]
            else:
                v += G[i, j] * ga[j] * gb[i]
            out[i, j] += scale * v


@numba.njit(cache=True, inline="always")
def _block_bbar(ga, gb, gba, gbb, C, G, out, scale):
    """Like ``_block`` with the normal strain rows replaced by their B-bar form."""
    # normal rows: Bn[p, i] = g[p] d_pi + (gbar[i] - g[i]) / 3
    for i in range(3):
        for j in range(3):
            v = 0.0
            for p in range(3):
                bap = (gba[i] - ga[i]) / 3.0
                if p == i:
                    bap += ga[p]
                for r in range(3):
                    bbr = (gbb[j] - gb[j]) / 3.0
                    if r == j:
                        bbr += gb[r]
                    v += bap * C[p, r] * bbr
            if i == j:
                for m in range(3):
                    if m != i:
                        v += G[i, m] * ga[m] * gb[m]
            else:
                v += G[i, j] * ga[j] * gb[i]
            out[i, j] += scale * v


@numba.njit(parallel=True, cache=True)
def assemble_solid(data: np.ndarray, X: np.ndarray, cells: np.ndarray, cell_ids: np.ndarray,
                   dN: np.ndarray, w: np.ndarray, consts: np.ndarray, frames: np.ndarray,
                   bbar: bool, pair_pos: np.ndarray, row_len: np.ndarray, part_lo: np.ndarray,
                   part_hi: np.ndarray, part_ptr: np.ndarray, part_elems: np.ndarray,
                   min_det: np.ndarray) -> None:
    """Add the stiffness of every element in ``cells`` into CSR ``data``.

    Parameters
    ----------
    data : (nnz,) CSR values (N/mm), updated in place.
    X : (n_nodes, 3) coordinates (mm), internal order.
    cells : (n_el, nen) internal node ids. cell_ids : (n_el,) row of each cell in ``consts``.
    dN, w : reference gradients (nq, nen, 3) and weights (nq,).
    consts : (n_cells, 9) orthotropic constants (MPa). frames : (n_cells, 3, 3) rotations (rows =
        local axes) or an array of shape (0, 3, 3) for the identity.
    bbar : mean-dilatation B-bar on/off.
    pair_pos, row_len : storage map from ``pattern``. part_* : thread partition.
    min_det : (n_parts,) output, smallest Jacobian determinant met by each part.
    """
    nparts = len(part_lo)
    nen = cells.shape[1]
    nq = w.shape[0]
    has_frame = frames.shape[0] > 0
    for t in numba.prange(nparts):
        lo = part_lo[t]
        hi = part_hi[t]
        Kb = np.zeros((nen, nen, 3, 3))
        g = np.empty((nq, nen, 3))
        dw = np.empty(nq)
        gbar = np.zeros((nen, 3))
        C = np.empty((3, 3))
        G = np.zeros((3, 3))
        tmp = np.empty((3, 3))
        dmin = np.inf
        for p in range(part_ptr[t], part_ptr[t + 1]):
            e = part_elems[p]
            cid = cell_ids[e]
            # --- geometry at each quadrature point
            for q in range(nq):
                j00 = j01 = j02 = j10 = j11 = j12 = j20 = j21 = j22 = 0.0
                for a in range(nen):
                    n = cells[e, a]
                    x0, x1, x2 = X[n, 0], X[n, 1], X[n, 2]
                    d0, d1, d2 = dN[q, a, 0], dN[q, a, 1], dN[q, a, 2]
                    j00 += x0 * d0
                    j01 += x0 * d1
                    j02 += x0 * d2
                    j10 += x1 * d0
                    j11 += x1 * d1
                    j12 += x1 * d2
                    j20 += x2 * d0
                    j21 += x2 * d1
                    j22 += x2 * d2
                c00 = j11 * j22 - j12 * j21
                c01 = j02 * j21 - j01 * j22
                c02 = j01 * j12 - j02 * j11
                det = j00 * c00 + j10 * c01 + j20 * c02
                if det < dmin:
                    dmin = det
                inv = 1.0 / det
                # inverse of J, row k = d xi_k / d x
                i00, i01, i02 = c00 * inv, c01 * inv, c02 * inv
                i10 = (j12 * j20 - j10 * j22) * inv
                i11 = (j00 * j22 - j02 * j20) * inv
                i12 = (j02 * j10 - j00 * j12) * inv
                i20 = (j10 * j21 - j11 * j20) * inv
                i21 = (j01 * j20 - j00 * j21) * inv
                i22 = (j00 * j11 - j01 * j10) * inv
                for a in range(nen):
                    d0, d1, d2 = dN[q, a, 0], dN[q, a, 1], dN[q, a, 2]
                    gx = d0 * i00 + d1 * i10 + d2 * i20
                    gy = d0 * i01 + d1 * i11 + d2 * i21
                    gz = d0 * i02 + d1 * i12 + d2 * i22
                    if has_frame:
                        g[q, a, 0] = frames[cid, 0, 0] * gx + frames[cid, 0, 1] * gy + frames[cid, 0, 2] * gz
                        g[q, a, 1] = frames[cid, 1, 0] * gx + frames[cid, 1, 1] * gy + frames[cid, 1, 2] * gz
                        g[q, a, 2] = frames[cid, 2, 0] * gx + frames[cid, 2, 1] * gy + frames[cid, 2, 2] * gz
                    else:
                        g[q, a, 0] = gx
                        g[q, a, 1] = gy
                        g[q, a, 2] = gz
                dw[q] = det * w[q]
            if bbar:
                vol = 0.0
                for q in range(nq):
                    vol += dw[q]
                for a in range(nen):
                    for k in range(3):
                        s = 0.0
                        for q in range(nq):
                            s += dw[q] * g[q, a, k]
                        gbar[a, k] = s / vol
            # --- material
            C[0, 0] = consts[cid, 0]
            C[1, 1] = consts[cid, 1]
            C[2, 2] = consts[cid, 2]
            C[0, 1] = C[1, 0] = consts[cid, 3]
            C[0, 2] = C[2, 0] = consts[cid, 4]
            C[1, 2] = C[2, 1] = consts[cid, 5]
            G[1, 2] = G[2, 1] = consts[cid, 6]
            G[0, 2] = G[2, 0] = consts[cid, 7]
            G[0, 1] = G[1, 0] = consts[cid, 8]
            # --- blocks a <= b, summed over quadrature points
            for a in range(nen):
                for b in range(a, nen):
                    for i in range(3):
                        for j in range(3):
                            Kb[a, b, i, j] = 0.0
            for q in range(nq):
                for a in range(nen):
                    for b in range(a, nen):
                        if bbar:
                            _block_bbar(g[q, a], g[q, b], gbar[a], gbar[b], C, G, Kb[a, b], dw[q])
                        else:
                            _block(g[q, a], g[q, b], C, G, Kb[a, b], dw[q])
            if has_frame:  # K_ab(global) = Q^T K_ab(local) Q
                for a in range(nen):
                    for b in range(a, nen):
                        for i in range(3):
                            for j in range(3):
                                s = 0.0
                                for k in range(3):
                                    s += Kb[a, b, i, k] * frames[cid, k, j]
                                tmp[i, j] = s
                        for i in range(3):
                            for j in range(3):
                                s = 0.0
                                for k in range(3):
                                    s += frames[cid, k, i] * tmp[k, j]
                                Kb[a, b, i, j] = s
            # --- scatter into the rows this part owns
            for a in range(nen):
                na = cells[e, a]
                own_a = lo <= na < hi
                for b in range(a, nen):
                    nb = cells[e, b]
                    if own_a:
                        pos = pair_pos[e, a * nen + b]
                        rl = row_len[na]
                        for i in range(3):
                            for j in range(3):
                                data[pos + i * rl + j] += Kb[a, b, i, j]
                    if b != a and lo <= nb < hi:
                        pos = pair_pos[e, b * nen + a]
                        rl = row_len[nb]
                        for i in range(3):
                            for j in range(3):
                                data[pos + i * rl + j] += Kb[a, b, j, i]
        min_det[t] = dmin


@numba.njit(parallel=True, cache=True, fastmath=True)
def assemble_tet4_isotropic(data: np.ndarray, X: np.ndarray, cells: np.ndarray,
                            cell_ids: np.ndarray, E: np.ndarray, nu: np.ndarray,
                            pair_pos: np.ndarray, row_len: np.ndarray, part_lo: np.ndarray,
                            part_hi: np.ndarray, part_ptr: np.ndarray, part_elems: np.ndarray,
                            min_det: np.ndarray) -> None:
    """Hot path of ``assemble_solid`` for linear tetrahedra with isotropic material.

    Same arguments as ``assemble_solid`` with per-cell ``E`` (MPa) and ``nu`` in place of the
    orthotropic constants. One-point rule (exact for tet4), gradients from edge vectors.
    """
    nparts = len(part_lo)
    for t in numba.prange(nparts):
        lo = part_lo[t]
        hi = part_hi[t]
        g = np.empty((4, 3))
        dmin = np.inf
        for p in range(part_ptr[t], part_ptr[t + 1]):
            e = part_elems[p]
            n0, n1, n2, n3 = cells[e, 0], cells[e, 1], cells[e, 2], cells[e, 3]
            ax, ay, az = X[n1, 0] - X[n0, 0], X[n1, 1] - X[n0, 1], X[n1, 2] - X[n0, 2]
            bx, by, bz = X[n2, 0] - X[n0, 0], X[n2, 1] - X[n0, 1], X[n2, 2] - X[n0, 2]
            cx, cy, cz = X[n3, 0] - X[n0, 0], X[n3, 1] - X[n0, 1], X[n3, 2] - X[n0, 2]
            # rows of J^-1 are (b x c, c x a, a x b) / det
            r1x, r1y, r1z = by * cz - bz * cy, bz * cx - bx * cz, bx * cy - by * cx
            r2x, r2y, r2z = cy * az - cz * ay, cz * ax - cx * az, cx * ay - cy * ax
            r3x, r3y, r3z = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
            det = ax * r1x + ay * r1y + az * r1z
            if det < dmin:
                dmin = det
            inv = 1.0 / det
            g[1, 0], g[1, 1], g[1, 2] = r1x * inv, r1y * inv, r1z * inv
            g[2, 0], g[2, 1], g[2, 2] = r2x * inv, r2y * inv, r2z * inv
            g[3, 0], g[3, 1], g[3, 2] = r3x * inv, r3y * inv, r3z * inv
            for k in range(3):
                g[0, k] = -(g[1, k] + g[2, k] + g[3, k])
            cid = cell_ids[e]
            vol = det / 6.0
            Ee = E[cid]
            ne = nu[cid]
            mu = vol * Ee / (2.0 * (1.0 + ne))
            lam = vol * Ee * ne / ((1.0 + ne) * (1.0 - 2.0 * ne))
            for a in range(4):
                na = cells[e, a]
                own_a = lo <= na < hi
                for b in range(a, 4):
                    nb = cells[e, b]
                    own_b = (b != a) and (lo <= nb < hi)
                    if not (own_a or own_b):
                        continue
                    dot = mu * (g[a, 0] * g[b, 0] + g[a, 1] * g[b, 1] + g[a, 2] * g[b, 2])
                    if own_a:
                        pos = pair_pos[e, a * 4 + b]
                        rl = row_len[na]
                        for i in range(3):
                            for j in range(3):
                                v = lam * g[a, i] * g[b, j] + mu * g[a, j] * g[b, i]
                                if i == j:
                                    v += dot
                                data[pos + i * rl + j] += v
                    if own_b:
                        pos = pair_pos[e, b * 4 + a]
                        rl = row_len[nb]
                        for i in range(3):
                            for j in range(3):
                                v = lam * g[b, i] * g[a, j] + mu * g[b, j] * g[a, i]
                                if i == j:
                                    v += dot
                                data[pos + i * rl + j] += v
        min_det[t] = dmin
