"""spinesim: finite-element simulation of spinal fusions and their failure modes.

Units throughout: mm, N, MPa, N·mm, s. The public surface is small; heavy modules are imported
lazily so that ``import spinesim`` stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Mesh": ("spinesim.mesh.mesh", "Mesh"),
    "CellBlock": ("spinesim.mesh.mesh", "CellBlock"),
    "read_mesh": ("spinesim.mesh.io", "read_mesh"),
    "write_mesh": ("spinesim.mesh.io", "write_mesh"),
    "Scenario": ("spinesim.scenario", "Scenario"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in ("fem", "mesh", "errors"):
        import importlib

        return importlib.import_module(f"spinesim.{name}")
    raise AttributeError(f"module 'spinesim' has no attribute {name!r}")
