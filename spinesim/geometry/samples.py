"""Sample lumbar meshes shipped in ``meshes/`` (``python meshes/make_samples.py``)."""

from __future__ import annotations

import numpy as np

from spinesim.geometry.lumbar import lumbar_segment
from spinesim.mesh.mesh import CellBlock, Mesh

#: Region tags of the hardware line cells in the fused sample.
SCREW_TAG, ROD_TAG = 20, 21
#: Distance (mm) from a screw's entry point back along its axis to the tulip centre where the
#: rod sits (the ``head_offset_mm`` default of ``spinesim.model.segment.SegmentOptions``).
HEAD_OFFSET_MM = 10.0


def lumbar_sample(construct: str = "intact", resolution: float = 0.8) -> Mesh:
    """The L4-L5 segment as shipped: ``intact``, or ``fused`` (cage, graft, and bilateral
    screws and rods as line cells, 8 elements per screw, one per rod span). Lengths in mm."""
    fused = construct == "fused"
    g = lumbar_segment("L4-L5", construct="fused" if fused else "intact",
                       resolution=resolution, screw_levels=("L4", "L5") if fused else (),
                       screw_diameter_mm=6.5, screw_length_mm=45.0)
    mesh = g.mesh
    if not fused:
        return mesh
    pts, lines, tags = [mesh.points], [], []
    n = mesh.n_nodes
    heads = {}
    for t in g.screws:
        head = t.entry - HEAD_OFFSET_MM * t.direction
        shank = t.entry + np.outer(np.linspace(0.0, t.length_mm, 9), t.direction)
        ids = n + np.arange(10)
        pts.append(np.vstack([head, shank]))
        lines.append(np.column_stack([ids[:-1], ids[1:]]))
        tags.append(np.full(9, SCREW_TAG))
        heads[(t.level, t.side)] = ids[0]
        n += 10
    for side in ("left", "right"):
        lines.append(np.array([[heads[("L4", side)], heads[("L5", side)]]]))
        tags.append(np.array([ROD_TAG]))
    blocks = (*mesh.blocks, CellBlock("line", np.vstack(lines), np.concatenate(tags)))
    names = {**mesh.region_names, SCREW_TAG: "screw", ROD_TAG: "rod"}
    return Mesh(np.vstack(pts), blocks, names, dict(mesh.node_sets))
