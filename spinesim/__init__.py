"""spinesim: finite-element simulation of spinal fusions and their failure modes.

Units: mm, N, MPa, N·mm, s internally; scenario files, the CLI and ``moment_nm`` arguments take
moments in N·m, converted to N·mm at the edge. The public surface is small; heavy modules are
imported lazily so that ``import spinesim`` stays fast (no numpy or pandas until needed).

Python API
----------
``spinesim.Scenario``
    Load a scenario from TOML, modify, validate, save (:class:`spinesim.scenario.Scenario`).
``spinesim.run(scenario)``
    One healing timeline with its verdicts and fields (:func:`spinesim.simulate.run_timeline`).
``spinesim.risk(...)``
    Failure probabilities by Monte Carlo (:func:`spinesim.montecarlo.risk`).
``spinesim.sweep(sweep_file, out_dir, ...)``
    A parameter sweep as a pandas DataFrame (:func:`spinesim.sweeps.sweep_scenarios`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinesim.montecarlo import risk as risk
    from spinesim.scenario import Scenario as Scenario
    from spinesim.simulate import run_timeline as run
    from spinesim.sweeps import sweep_scenarios as sweep

__version__ = "0.1.0"

_LAZY = {
    "Mesh": ("spinesim.mesh.mesh", "Mesh"),
    "CellBlock": ("spinesim.mesh.mesh", "CellBlock"),
    "read_mesh": ("spinesim.mesh.io", "read_mesh"),
    "write_mesh": ("spinesim.mesh.io", "write_mesh"),
    "Scenario": ("spinesim.scenario", "Scenario"),
    "run": ("spinesim.simulate", "run_timeline"),
    "risk": ("spinesim.montecarlo", "risk"),
    "sweep": ("spinesim.sweeps", "sweep_scenarios"),
}

__all__ = [
    "CellBlock",
    "Mesh",
    "Scenario",
    "__version__",
    "read_mesh",
    "risk",
    "run",
    "sweep",
    "write_mesh",
]

def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in ("fem", "mesh", "errors"):
        import importlib

        return importlib.import_module(f"spinesim.{name}")
    raise AttributeError(f"module 'spinesim' has no attribute {name!r}")
