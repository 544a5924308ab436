"""Meshes: the Mesh type, file I/O through meshio, checks, generators and renumbering."""

from spinesim.mesh.mesh import CellBlock, Mesh

__all__ = ["CellBlock", "Mesh"]
