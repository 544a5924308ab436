"""Shared helpers for the test suite."""

from __future__ import annotations

import numpy as np

from spinesim.mesh.mesh import Mesh


def boundary_nodes(mesh: Mesh) -> np.ndarray:
    """Nodes on the bounding box of the mesh."""
    p = mesh.points
    lo, hi = p.min(0), p.max(0)
    tol = 1e-9 * float(np.max(hi - lo))
    return np.flatnonzero(np.any((p < lo + tol) | (p > hi - tol), axis=1))


# ----------------------------------------------------------------- measurement report
# Verification tests record what they measured (errors, convergence rates); the numbers are
# printed in a section at the end of the pytest run so that every CI log shows them.
_MEASUREMENTS: list[str] = []


def record(line: str) -> None:
    """Add a line to the verification summary printed after the test run."""
    _MEASUREMENTS.append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if _MEASUREMENTS:
        terminalreporter.section("spinesim verification measurements")
        for line in _MEASUREMENTS:
            terminalreporter.write_line(line)
