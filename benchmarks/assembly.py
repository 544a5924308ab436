"""Stiffness assembly benchmark: spinesim vs sfepy vs scikit-fem on tet4 boxes.

For each mesh size and tool a FRESH subprocess (``--worker TOOL SIZE``) builds the same tet4 box
(``box_with_cells``), then times

* setup   : mesh -> sparsity pattern / assembly-ready objects
            (spinesim ``Assembler(mesh)``; sfepy mesh, domain, field, equations, problem and
            ``create_matrix_graph``; scikit-fem ``MeshTet`` + ``Basis``),
* first   : the first assembly, E = 1000 MPa, nu = 0.3,
* refill  : median of 3 re-assemblies with new per-cell moduli E * (1 + 0.1 * U(0, 1))
            (spinesim and sfepy refill the same matrix in place; scikit-fem has no refill and
            assembles anew with its existing Basis),

and reports the child's whole-process peak RSS (VmHWM, read before any verification work).
Tools: ``spinesim-1t`` / ``spinesim-2t`` (spinesim with NUMBA_NUM_THREADS=1 / 2), ``sfepy``,
``skfem-q1`` (scikit-fem, intorder=1: the exact 1-point rule for P1, same as spinesim/sfepy) and
``skfem`` (scikit-fem's default rule, 4 points per tet; same matrix, more work).

``max_rel_diff`` = max|K_tool - K_spinesim| / max|K_spinesim| for the matrix after the last
refill (same moduli in every tool), against the ``spinesim-1t`` matrix, which that worker saves to
a temporary .npz (its own row is the reference: null).

Usage::

    python benchmarks/assembly.py [--sizes 10k,100k,500k,1M] [--tools ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import peak_mb  # noqa: E402  (benchmarks/ helper)

SIZES = {"10k": 10_000, "100k": 100_000, "500k": 500_000, "1M": 1_000_000}
TOOLS = ["spinesim-1t", "spinesim-2t", "sfepy", "skfem-q1", "skfem"]
KEYS = ["tool", "size", "n_cells", "setup_s", "first_s", "refill_s", "peak_mb", "max_rel_diff"]
E0, NU = 1000.0, 0.3
N_REFILL = 3


# ---------------------------------------------------------------------------------- worker
def worker(tool: str, size: str, ref: str) -> dict:
    """Run one tool on one size in this (fresh) process and return its record."""
    from spinesim.mesh.generate import box_with_cells

    mesh = box_with_cells(SIZES[size], "tetra")
    n = mesh.n_solid_cells
    rng = np.random.default_rng(12345)
    moduli = [E0 * (1.0 + 0.1 * rng.random(n)) for _ in range(N_REFILL)]
    # make(): the tool's object built outside the timers; setup(obj) is timed as set-up and
    # returns the object whose assemble(E, nu) and to_user(K) are then timed identically.
    if tool.startswith("spinesim"):
        from spinesim.fem import Assembler

        make, setup_fn = (lambda: None), (lambda _: Assembler(mesh))
    elif tool == "sfepy":
        from spinesim.fem.peers import SfepyAssembly

        make, setup_fn = (lambda: SfepyAssembly(mesh)), (lambda o: (o.setup(), o)[1])
    elif tool in ("skfem", "skfem-q1"):
        from spinesim.fem.peers import SkfemAssembly

        make = lambda: SkfemAssembly(mesh, intorder=1 if tool == "skfem-q1" else None)  # noqa: E731
        setup_fn = lambda o: (o.setup(), o)[1]  # noqa: E731
    else:
        raise SystemExit(f"unknown tool {tool!r}; known: {', '.join(TOOLS)}")

    obj = make()
    t0 = time.perf_counter()
    obj = setup_fn(obj)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    K = obj.assemble(E0, NU)
    first = time.perf_counter() - t0
    refills = []
    for E in moduli:
        del K  # a real refill loop drops the old matrix too (spinesim and sfepy refill in place)
        t0 = time.perf_counter()
        K = obj.assemble(E, NU)
        refills.append(time.perf_counter() - t0)
    peak = peak_mb()
    K_user = lambda: obj.to_user(K)  # noqa: E731

    diff = None
    if ref:
        import scipy.sparse as sp

        if tool == "spinesim-1t":
            sp.save_npz(ref, K_user(), compressed=False)
        elif os.path.exists(ref):
            from spinesim.fem.peers import max_rel_diff

            diff = max_rel_diff(K_user(), sp.load_npz(ref))
    return dict(tool=tool, size=size, n_cells=n, setup_s=setup, first_s=first,
                refill_s=float(np.median(refills)), peak_mb=peak, max_rel_diff=diff)


def warmup() -> None:
    """Compile (or load from numba's disk cache) spinesim's kernels on a tiny mesh."""
    from spinesim.fem import Assembler
    from spinesim.mesh.generate import box

    mesh = box(n=(3, 3, 3), cell_type="tetra")
    asm = Assembler(mesh)
    asm.assemble(E0, NU)
    asm.assemble(np.full(mesh.n_solid_cells, E0), NU)


# ---------------------------------------------------------------------------------- driver
def child_env(tool: str) -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    if tool.startswith("spinesim"):
        env["NUMBA_NUM_THREADS"] = "2" if tool.endswith("2t") else "1"
    return env


def run_child(args: list[str], tool: str, timeout: float) -> tuple[dict | None, str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        proc = subprocess.run(cmd, env=child_env(tool), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s"
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:]), ""
    if proc.returncode == 0:
        return None, "no result"
    err = (proc.stderr.strip().splitlines() or [""])[-1][:120]
    reason = f"exit code {proc.returncode}" + (" (killed: out of memory?)"
                                               if proc.returncode in (-9, 137) else "")
    return None, f"{reason}: {err}" if err else reason


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def print_table(records: list[dict]) -> None:
    head = (f"{'size':>5} {'tool':>12} {'cells':>8} {'setup s':>8} {'first s':>8} "
            f"{'refill s':>9} {'Melem/s':>8} {'peak MB':>8} {'max rel diff':>12}   "
            f"{'refill 1t/peer':>14} {'refill 2t/peer':>14} {'setup 1t/peer':>13}")
    print(head)
    print("-" * len(head))
    by = {(r["size"], r["tool"]): r for r in records}
    for r in records:
        if r.get("error"):
            print(f"{r['size']:>5} {r['tool']:>12} {r['n_cells']:>8}  FAILED: {r['error']}")
            continue
        rate = r["n_cells"] / r["refill_s"] / 1e6 if r["refill_s"] else float("nan")
        s1, s2 = by.get((r["size"], "spinesim-1t")), by.get((r["size"], "spinesim-2t"))
        ratios = ""
        if not r["tool"].startswith("spinesim"):
            def ratio(a: dict | None, key: str) -> str:
                ok = a is not None and not a.get("error") and r[key]
                return fmt(a[key] / r[key] if ok else None, ".4f")
            ratios = (f"{ratio(s1, 'refill_s'):>14} {ratio(s2, 'refill_s'):>14} "
                      f"{ratio(s1, 'setup_s'):>13}")
        print(f"{r['size']:>5} {r['tool']:>12} {r['n_cells']:>8} {r['setup_s']:>8.3f} "
              f"{r['first_s']:>8.3f} {r['refill_s']:>9.4f} {rate:>8.2f} {r['peak_mb']:>8.0f} "
              f"{fmt(r['max_rel_diff'], '.2e'):>12}   {ratios}")


def check_targets(records: list[dict], size: str = "500k") -> None:
    by = {r["tool"]: r for r in records if r["size"] == size and not r.get("error")}
    print(f"\nTargets at {size} tet4:")
    if "sfepy" not in by or not any(t in by for t in ("spinesim-1t", "spinesim-2t")):
        print(f"  NOT EVALUATED (need {size} results of sfepy and spinesim)")
        return
    sf = by["sfepy"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for tool, need in (("spinesim-1t", 10.0), ("spinesim-2t", 15.0)):
        if tool in by:
            speed = sf["refill_s"] / by[tool]["refill_s"]
            print(f"  {verdict(speed >= need)}  {tool} refill {speed:.1f}x faster than sfepy "
                  f"(target >= {need:.0f}x)")
    for tool in ("spinesim-1t", "spinesim-2t"):
        if tool in by:
            s = by[tool]["setup_s"]
            print(f"  {verdict(s < 1.5)}  {tool} setup {s:.3f} s (target < 1.5 s)")
    for tool in ("spinesim-1t", "spinesim-2t"):
        if tool in by:
            p, q = by[tool]["peak_mb"], sf["peak_mb"]
            print(f"  {verdict(p < 0.5 * q)}  {tool} peak memory {p:.0f} MB = {p / q:.2f} x "
                  f"sfepy's {q:.0f} MB (target < 0.5 x)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k,500k,1M",
                    help=f"comma-separated subset of {','.join(SIZES)}")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of tools")
    ap.add_argument("--json", help="write the records to this file")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per worker")
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--ref", default="", help=argparse.SUPPRESS)
    ap.add_argument("--warmup", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.warmup:
        warmup()
        print("RESULT {}", flush=True)
        return 0
    if args.worker:
        rec = worker(*args.worker, ref=args.ref)
        print("RESULT " + json.dumps(rec), flush=True)
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [s for s in sizes if s not in SIZES] + [t for t in tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown sizes/tools {bad}; sizes: {list(SIZES)}, tools: {TOOLS}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; every tool x size runs in a "
          f"fresh subprocess (timeout {args.timeout:.0f} s); load average at start "
          f"{os.getloadavg()[0]:.2f} (other processes skew timings, 2-thread runs most)")
    t0 = time.perf_counter()
    for tool in ("spinesim-1t", "spinesim-2t"):
        if tool in tools:
            _, err = run_child(["--warmup"], tool, args.timeout)
            if err:
                print(f"warm-up ({tool}) failed: {err}")
    print(f"numba warm-up: spinesim kernels compiled/cached in a throwaway process "
          f"({time.perf_counter() - t0:.1f} s, not timed)\n")

    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="spinesim-bench-") as tmp:
        for size in sizes:
            ref = os.path.join(tmp, f"K_spinesim_{size}.npz")
            for tool in tools:
                rec, err = run_child(["--worker", tool, size, "--ref", ref], tool, args.timeout)
                if rec is None:
                    m = max(1, round((SIZES[size] / 6) ** (1 / 3)))  # as box_with_cells
                    rec = dict(tool=tool, size=size, n_cells=6 * m**3, setup_s=None,
                               first_s=None, refill_s=None, peak_mb=None, max_rel_diff=None,
                               error=err)
                records.append(rec)
                status = f"FAILED ({err})" if err else f"refill {rec['refill_s']:.4f} s"
                print(f"  done {size:>5} {tool:<12} {status}", flush=True)
            if os.path.exists(ref):
                os.remove(ref)
    print()
    print_table(records)
    print("\nrefill 1t/peer etc.: spinesim time / peer time (smaller is better for spinesim); "
          "Melem/s = cells / refill s")
    check_targets(records)
    if args.json:
        out = [{k: r.get(k) for k in KEYS} for r in records]  # failed runs: null numbers
        from spinesim.atomic import write_json

        write_json(args.json, out)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
