"""Researcher's script: the generated L4-L5 against a real one, measured the same way.

spinesim builds its vertebrae from a table of cohort dimensions (elliptical bodies, simplified
posterior elements). This script measures a subject's L4-L5 from surface files and the
generated intact L4-L5 with the same functions (``spinesim.geometry.measure``: enclosed
volume, mid-height section, heights along each body's own axis, wedge angles) and writes
the table ``OUT/anatomy_comparison.csv`` (subject, spinesim, difference in %).

The subject is the anatomical L4-L5 of Remus et al., "A computational model of the
lumbosacral spine", PLoS ONE 2021 (geometry from the Visible Human Male; BSD-3-Clause,
repository RemusR9/artisynth_lumbosacralSpineModel). Its files are not part of spinesim:
point ``--anatomy`` (or the environment variable ``SPINESIM_ANATOMY``) at a folder that holds
``L4_body_mm.stl``, ``L5_body_mm.stl``, ``L4_whole_mm.stl``, ``L5_whole_mm.stl`` (closed
surfaces, mm) and ``L4L5_disc_hex8_mm.vtu`` (hexahedra with cell data ``region``, 5 =
nucleus), in axes x anterior, y right, z cranial.

With ``--fit`` it also fits the generator's dimensions to the subject (body widths, depths,
central heights and wedges, mean disc height and disc wedge) and writes them as a scenario
fragment, ``OUT/subject_dimensions.toml`` (``[segment.dimensions.L4]`` ...), to run the
timeline on the subject's proportions: ``spinesim run OUT/subject_dimensions.toml``; the
comparison with the fitted dimensions goes to ``OUT/anatomy_comparison_fitted.csv``.

Run: ``python examples/anatomy_comparison.py [--anatomy DIR] [--resolution 1.0]
[--out results/anatomy] [--fit]`` (about 1 s; 3 s with ``--fit``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ANATOMY = HERE.parent.parent / "shared" / "anatomy" / "L4L5_artisynth"
#: Directions of the data set's x, y, z axes.
AXES = ("anterior", "right", "cranial")
NUCLEUS_REGION = 5

BODY_ROWS = (("volume_cm3", "volume", "cm3"), ("width_mm", "mid-height width", "mm"),
             ("depth_mm", "mid-height depth", "mm"),
             ("section_area_mm2", "mid-height section area", "mm2"),
             ("central_height_mm", "central height", "mm"),
             ("anterior_height_mm", "anterior height", "mm"),
             ("posterior_height_mm", "posterior height", "mm"),
             ("wedge_deg", "wedge angle", "deg"))
DISC_ROWS = BODY_ROWS[:-1] + (("wedge_deg", "wedge (lordosis) angle", "deg"),)


def _disc(path: Path):
    """Disc and nucleus surfaces of the data set's hexahedral disc mesh."""
    import numpy as np

    from spinesim.errors import MeshError
    from spinesim.geometry.measure import reorient, surface_of_cells
    from spinesim.mesh.io import read_meshio

    if not path.is_file():
        raise MeshError(f"{path}: disc mesh not found")
    m = read_meshio(path)
    hexes = [(c.data, r) for c, r in zip(m.cells, m.cell_data.get("region", []))
             if c.type == "hexahedron"]
    if not hexes:
        raise MeshError(f"{path}: needs hexahedra with cell data 'region'")
    cells = np.concatenate([h for h, _ in hexes])
    region = np.concatenate([r for _, r in hexes]).ravel()
    points = reorient(m.points, AXES)
    return (surface_of_cells(points, cells, name=f"{path.name} disc"),
            surface_of_cells(points, cells[region == NUCLEUS_REGION],
                             name=f"{path.name} nucleus"))


def measures(anatomy: Path, resolution: float = 1.0, dimensions=None):
    """Rows (part, quantity, unit, subject, spinesim, difference, difference_percent)
    comparing the subject's L4-L5 with the generated intact L4-L5 at ``resolution``;
    ``difference`` is spinesim minus subject in the row's unit, ``difference_percent`` its
    ratio to the subject's value (not given for angles). ``dimensions`` overrides the
    generator's (``{"L4": {"endplate_width_mm": 50.5}}``)."""
    import numpy as np
    import pandas as pd

    from spinesim.geometry.lumbar import lumbar_segment
    from spinesim.geometry.measure import (
        body_frame,
        body_measures,
        disc_measures,
        extents,
        read_surface,
        segment_surfaces,
    )

    generated = segment_surfaces(lumbar_segment("L4-L5", construct="intact",
                                                resolution=resolution, dimensions=dimensions))
    rows = []

    def add(part, quantity, unit, subject, model):
        percent = 100.0 * (model / subject - 1) if unit != "deg" and subject else float("nan")
        rows.append((part, quantity, unit, subject, model, model - subject, percent))

    axis = {}
    for level in ("L4", "L5"):
        body = read_surface(anatomy / f"{level}_body_mm.stl", AXES)
        whole = read_surface(anatomy / f"{level}_whole_mm.stl", AXES)
        axis[level] = (body_frame(body)[2], body_frame(generated[f"{level} body"])[2])
        s, g = body_measures(body), body_measures(generated[f"{level} body"])
        for field, quantity, unit in BODY_ROWS:
            add(f"{level} body", quantity, unit, getattr(s, field), getattr(g, field))
        add(level, "whole-vertebra volume", "cm3", whole.volume_mm3 / 1000,
            generated[level].volume_mm3 / 1000)
        size = (extents(whole, body), extents(generated[level], generated[f"{level} body"]))
        for i, quantity in enumerate(("overall width (transverse processes)",
                                      "overall length (body to spinous process)")):
            add(level, quantity, "mm", size[0][i], size[1][i])
    lordosis = [float(np.degrees(np.arccos(np.clip(axis["L4"][i] @ axis["L5"][i], -1, 1))))
                for i in (0, 1)]
    add("L4-L5", "segmental lordosis (angle between the body axes)", "deg", *lordosis)
    disc, nucleus = _disc(anatomy / "L4L5_disc_hex8_mm.vtu")
    s = disc_measures(disc, nucleus)
    g = disc_measures(generated["L4-L5 disc"], generated["L4-L5 nucleus"])
    for field, quantity, unit in DISC_ROWS:
        add("L4-L5 disc", quantity, unit, getattr(s.body, field), getattr(g.body, field))
    add("L4-L5 disc", "mean height (volume / section area)", "mm", s.mean_height_mm,
        g.mean_height_mm)
    add("L4-L5 disc", "nucleus volume fraction", "-", s.nucleus_volume_fraction,
        g.nucleus_volume_fraction)
    return pd.DataFrame(rows, columns=["part", "quantity", "unit", "subject", "spinesim",
                                       "difference", "difference_percent"])


#: Generator dimensions fitted to the subject: (vertebra, dimension key, part, quantity of
#: the comparison table it must reproduce).
FITTED = (*((lv, key, f"{lv} body", q) for lv in ("L4", "L5") for key, q in (
    ("endplate_width_mm", "mid-height width"), ("endplate_depth_mm", "mid-height depth"),
    ("body_height_mm", "central height"), ("body_wedge_deg", "wedge angle"))),
    ("L4", "disc_height_mm", "L4-L5 disc", "mean height (volume / section area)"),
    ("L4", "disc_lordosis_deg", "L4-L5 disc", "wedge (lordosis) angle"))


def subject_dimensions(anatomy: Path, resolution: float = 1.0, iterations: int = 5):
    """Generator dimensions (``{"L4": {...}, "L5": {...}}``, mm and degrees) whose segment
    reproduces the subject's body widths, depths, central heights and wedges, mean disc height
    and disc wedge (the segmental lordosis follows: the disc wedge plus half of each body's),
    and the largest correction of the last step (mm or degrees).

    Each measure moves one for one with its dimension (the concavities stay put), so each step
    adds the remaining difference to the dimension."""
    from spinesim.geometry.dimensions import level_dimensions

    dims = {lv: {} for lv in ("L4", "L5")}
    for lv, key, _, _ in FITTED:
        dims[lv][key] = float(getattr(level_dimensions(lv), key))
    for _ in range(iterations):
        table = measures(anatomy, resolution, dims).set_index(["part", "quantity"])
        last_step = 0.0
        for lv, key, part, quantity in FITTED:
            diff = float(table.loc[(part, quantity), "difference"])
            dims[lv][key] -= diff
            last_step = max(last_step, abs(diff))
    return dims, last_step


def run(anatomy: Path, out: Path, resolution: float = 1.0, fit: bool = False):
    """Measure, write ``out/anatomy_comparison.csv`` atomically, return the table. With
    ``fit``, also write ``out/subject_dimensions.toml``: a scenario fragment with the
    :func:`subject_dimensions` (``spinesim run`` it, alone or appended to a scenario), and
    ``out/anatomy_comparison_fitted.csv``: the comparison with those dimensions."""
    from spinesim.atomic import atomic_path, write_csv
    from spinesim.errors import MeshError

    if not anatomy.is_dir():
        raise MeshError(f"{anatomy}: anatomy folder not found; pass --anatomy DIR or set "
                        "SPINESIM_ANATOMY (see this script's docstring for the files)")
    table = measures(anatomy, resolution)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "anatomy_comparison.csv", table, index=False, float_format="%.4g")
    if fit:
        dims, last_step = subject_dimensions(anatomy, resolution)
        write_csv(out / "anatomy_comparison_fitted.csv", measures(anatomy, resolution, dims),
                  index=False, float_format="%.4g")
        lines = [f"# Generator dimensions fitted to the subject in {anatomy} by",
                 "# examples/anatomy_comparison.py --fit (mm, degrees); the last fitting step "
                 f"moved them by {last_step:.2g} at most."]
        for lv, values in dims.items():
            lines += ["", f"[segment.dimensions.{lv}]"]
            lines += [f"{k} = {round(v, 3)!r}" for k, v in values.items()]
        with atomic_path(out / "subject_dimensions.toml") as tmp:
            tmp.write_text("\n".join(lines) + "\n")
    return table


def main(argv: list[str] | None = None) -> int:
    from spinesim.errors import SpinesimError

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--anatomy", type=Path,
                   default=Path(os.environ.get("SPINESIM_ANATOMY", DEFAULT_ANATOMY)))
    p.add_argument("--resolution", type=float, default=1.0)
    p.add_argument("--out", type=Path, default=Path("results") / "anatomy")
    p.add_argument("--fit", action="store_true",
                   help="also fit the generator's dimensions to the subject and write "
                        "subject_dimensions.toml, a scenario fragment for spinesim run")
    args = p.parse_args(argv)
    try:
        table = run(args.anatomy, args.out, args.resolution, args.fit)
    except SpinesimError as exc:
        print(f"anatomy_comparison: {exc}", file=sys.stderr)
        return 2
    with_units = table.assign(quantity=table.quantity + " (" + table.unit + ")")
    print(with_units.drop(columns="unit").to_string(index=False, float_format="%.3g"))
    print(f"written: {args.out / 'anatomy_comparison.csv'}")
    if args.fit:
        for name in ("anatomy_comparison_fitted.csv", "subject_dimensions.toml"):
            print(f"written: {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
