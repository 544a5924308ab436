"""Meshes: the Mesh type, file I/O through meshio, checks, generators and renumbering."""

from __future__ import annotations

from typing import Any

from spinesim.mesh.mesh import CellBlock, Mesh

__all__ = ["CellBlock", "Mesh", "read_mesh", "write_mesh", "check_mesh"]


def __getattr__(name: str) -> Any:  # meshio is imported only when files are touched
    if name in ("read_mesh", "write_mesh"):
        from spinesim.mesh import io

        return getattr(io, name)
    if name == "check_mesh":
        from spinesim.mesh.checks import check_mesh

        return check_mesh
    raise AttributeError(f"module 'spinesim.mesh' has no attribute {name!r}")
