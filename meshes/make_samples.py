"""Regenerate the sample meshes in this folder: ``python meshes/make_samples.py``.

* ``bone_block.vtu`` — the quick start's cancellous block.
* ``L4L5_intact.vtu`` — the generated intact L4-L5 segment (default resolution).
* ``L4L5_fused.vtu`` — the fused L4-L5 segment: PEEK cage with graft, and the bilateral
  pedicle screws and rods as ``line`` cells (regions ``screw`` and ``rod``; beam nodes appended
  after the solid nodes).

The files are deterministic: running this script again rewrites them bit for bit
(``tests/test_examples.py`` checks that the shipped files match the generator).
"""

from __future__ import annotations

from pathlib import Path

from spinesim.mesh.io import write_mesh
from spinesim.geometry.samples import lumbar_sample
from spinesim.mesh.samples import bone_block

HERE = Path(__file__).resolve().parent


def main() -> None:
    write_mesh(HERE / "bone_block.vtu", bone_block())
    write_mesh(HERE / "L4L5_intact.vtu", lumbar_sample("intact"))
    write_mesh(HERE / "L4L5_fused.vtu", lumbar_sample("fused"))


if __name__ == "__main__":
    main()
