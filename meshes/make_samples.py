"""Regenerate the sample meshes in this folder: ``python meshes/make_samples.py``."""

from __future__ import annotations

from pathlib import Path

from spinesim.mesh.io import write_mesh
from spinesim.mesh.samples import bone_block

HERE = Path(__file__).resolve().parent


def main() -> None:
    write_mesh(HERE / "bone_block.vtu", bone_block())


if __name__ == "__main__":
    main()
