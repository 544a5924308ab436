"""The range-of-motion study: one construct against the intact segment under pure moments.

:func:`rom_study` builds the requested construct (and, for an instrumented or fused one, the
intact segment with the same levels, bone and mesh), runs the six standard load cases and
returns a JSON-ready table with the keys the ``spinesim rom`` command writes. A given mesh
(``SegmentOptions.mesh_path``) is run alone, as meshed, like an intact segment (its construct
is a label only, there is no intact model to compare with); ``levels`` and ``construct`` are
then None and ``mesh`` names the file:

``cases.<load case>.rom_deg`` for every construct; for constructs other than ``intact`` also
``rom_percent_of_intact``, ``rod_max_von_mises_mpa`` and ``screw_max_micromotion_um`` (``None``
without rods or screws, e.g. ``cage-only``); for ``intact`` also ``intradiscal_pressure_mpa``
(mean pressure in the nucleus; also for a given mesh). ROM is one-sided, degrees (see
``spinesim.model.loadcases``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace

import numpy as np

from spinesim.model.loadcases import DIRECTIONS, STANDARD_MOMENT_NM, moment_load_cases
from spinesim.model.segment import Segment, SegmentOptions, build_segment, solve_rom

log = logging.getLogger(__name__)

__all__ = ["rom_study"]


def _finite(x):
    return None if x is None or not np.isfinite(x) else float(x)


def rom_study(opts: SegmentOptions | None = None, *, moment_nm: float = STANDARD_MOMENT_NM,
              preload_n: float = 0.0, directions: tuple[str, ...] = DIRECTIONS,
              keep_segments: bool = False) -> dict:
    """Run the pure-moment protocol on ``opts.construct`` (and on the intact segment when the
    construct is not intact and no mesh is given). Moments in N·m, preload in N; returns a
    JSON-ready dict."""
    opts = SegmentOptions() if opts is None else opts
    t0 = time.perf_counter()
    cases = moment_load_cases(moment_nm, preload_n, directions)
    segs: dict[str, Segment] = {}
    results = {}
    given_mesh = opts.mesh_path is not None  # the construct is a label only: nothing to compare
    compare = opts.construct != "intact" and not given_mesh
    names = ["intact", opts.construct] if compare else [opts.construct]
    for name in names:
        seg = build_segment(replace(opts, construct=name) if name == opts.construct
                            else replace(opts, construct=name, cage_interface="bonded"))
        segs[name] = seg
        results[name] = solve_rom(seg, cases)
    main = results[opts.construct]
    intact = results["intact"] if compare else None
    out_cases = {}
    for case in cases:
        r = main[case.name]
        row = {"rom_deg": r.rom_deg}
        if not compare:
            row["intradiscal_pressure_mpa"] = _finite(r.intradiscal_pressure_mpa)
        else:
            base = intact[case.name].rom_deg
            row["rom_percent_of_intact"] = 100.0 * r.rom_deg / base if base > 0 else None
            row["rod_max_von_mises_mpa"] = _finite(r.rod_max_von_mises_mpa)
            row["screw_max_von_mises_mpa"] = _finite(r.screw_max_von_mises_mpa)
            row["screw_max_micromotion_um"] = _finite(r.screw_max_micromotion_um)
            row["intact_rom_deg"] = base
        row["facet_force_n"] = {k: float(v) for k, v in r.facet_force_n.items()}
        row["endplate_max_principal_strain"] = _finite(r.endplate_max_strain)
        row["graft_max_principal_strain"] = _finite(r.graft_max_strain)
        row["active_set_iterations"] = r.iterations
        out_cases[case.name] = row
    seg = segs[opts.construct]
    out = {
        "levels": None if given_mesh else opts.levels,
        "construct": None if given_mesh else opts.construct, "mesh": opts.mesh_path,
        "moment_nm": float(moment_nm),
        "preload_n": float(preload_n),
        "rom_convention": "one-sided, degrees" + (", from the preloaded position"
                                                  if preload_n > 0 else ""),
        "options": asdict(opts), "cases": out_cases,
        "model": {"dofs": seg.info["dofs"], "cells": seg.info["cells"],
                  "quality": seg.info["quality"],
                  "fibre_angle_deg": seg.info.get("fibre_angle_deg"),
                  "screws": [{"level": t.level, "side": t.side,
                              "wall_clearance_mm": t.wall_clearance_mm}
                             for t in seg.geometry.screws]},
        "seconds": time.perf_counter() - t0,
    }
    if keep_segments:
        out["_segments"] = segs
    return out
