"""Case functions for tests/test_sweep.py, importable by worker processes and subprocesses.

``simulate`` stands in for a timeline run: a rod stress from the rod diameter and a Monte
Carlo fracture risk drawn with the case's own seed. When ``SPINESIM_TEST_CALLS`` names a
file, each call appends ``<SPINESIM_TEST_RUN> <case key>`` to it, so tests can count calls.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time

import numpy as np

from spinesim.store import case_key

BASE = {
    "hardware": {"rod": {"diameter_mm": 6.0, "material": "Ti6Al4V"},
                 "screws": [{"length_mm": 45.0}, {"length_mm": 45.0}]},
    "bone": {"density_g_cm3": 1.0},
    "load": {"moment_nm": 7.5},
    "risk": {"n_samples": 500},
    "delay_s": 0.0,
}

#: 8 LHS cases; the stratum below 4.75 mm (1 of 8) always holds exactly one failing case.
LHS_SPEC = {
    "design": "lhs", "samples": 8, "seed": 2024,
    "parameters": {
        "hardware.rod.diameter_mm": {"low": 4.5, "high": 6.5},
        "hardware.rod.material": {"choices": ["Ti6Al4V", "CoCr"]},
        "bone.density_g_cm3": {"mean": 1.0, "std": 0.15, "low": 0.6,
                               "distribution": "normal"},
    },
}

#: Limit below which ``simulate`` fails, in mm.
FAIL_BELOW_MM = 4.75


def simulate(params: dict) -> dict:
    """Rod bending stress (MPa) and a seeded Monte Carlo fracture probability."""
    log = os.environ.get("SPINESIM_TEST_CALLS")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{os.environ.get('SPINESIM_TEST_RUN', '-')} "
                         f"{case_key(params)}\n".encode())
        finally:
            os.close(fd)
    time.sleep(params["delay_s"])
    d = params["hardware"]["rod"]["diameter_mm"]
    if d < FAIL_BELOW_MM:
        raise RuntimeError(f"rod of {d:.2f} mm buckled")
    stress = 32.0 * params["load"]["moment_nm"] * 1e3 / (math.pi * d ** 3)
    rng = np.random.default_rng(params["seed"])
    strength = rng.normal(1.2 * stress * params["bone"]["density_g_cm3"], 0.3 * stress,
                          params["risk"]["n_samples"])
    return {"rod_stress_mpa": stress,
            "risk": {"fracture": float(np.mean(strength < stress)),
                     "first_draw": float(strength[0])}}


def die_if_asked(params: dict) -> dict:
    """Kill the worker process (as the OOM killer would) if ``params["die"]``, after 1 s."""
    if params.get("die"):
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)
    return {"twice": 2 * params["i"]}


def thread_report(params: dict) -> dict:
    """Threads the case would get from numba and from BLAS, and the thread variables."""
    import numba
    import scipy.linalg  # noqa: F401 - loads scipy's BLAS too
    from threadpoolctl import threadpool_info

    return {"numba_threads": numba.get_num_threads(),
            "blas_threads": max(lib["num_threads"] for lib in threadpool_info()),
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}}


def main(argv: list[str]) -> None:
    """Subprocess driver: ``store first last delay_s workers go_file [out_dir]``.

    Runs cases ``first:last`` of a 12-case grid (or of the 10-case LHS crash design when
    ``first`` is ``lhs``) into ``store``, once ``go_file`` exists (``-``: at once).
    """
    from spinesim.sweeps import expand, run_sweep, write_table

    store, first, last, delay_s, workers, go_file, *out = argv
    while go_file != "-" and not os.path.exists(go_file):
        time.sleep(0.005)
    cases = expand({**BASE, "delay_s": float(delay_s)},
                   CRASH_SPEC if first == "lhs" else GRID_SPEC)
    if first != "lhs":
        cases = cases[int(first):int(last)]
    df = run_sweep(cases, simulate, store, workers=int(workers))
    if out:
        write_table(df, out[0])


GRID_SPEC = {"design": "grid", "seed": 5,
             "parameters": {"hardware.rod.diameter_mm": [5.0, 5.5, 6.0, 6.5],
                            "hardware.rod.material": ["Ti6Al4V", "CoCr", "CoCr-PEEK"]}}
CRASH_SPEC = {**LHS_SPEC, "samples": 10, "seed": 99,
              "parameters": {**LHS_SPEC["parameters"],
                             "hardware.rod.diameter_mm": {"low": 5.0, "high": 6.5}}}

if __name__ == "__main__":
    main(sys.argv[1:])
