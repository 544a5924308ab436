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


def subject_surfaces(anatomy: Path) -> dict:
    """The subject's surfaces, named as :func:`spinesim.geometry.measure.segment_surfaces`
    names the generated ones: ``L4 body``, ``L4``, ``L5 body``, ``L5``, ``L4-L5 disc`` and
    ``L4-L5 nucleus`` (from the data set's hexahedral disc mesh)."""
    import numpy as np

    from spinesim.errors import MeshError
    from spinesim.geometry.measure import read_surface, reorient, surface_of_cells
    from spinesim.mesh.io import read_meshio

    out = {}
    for level in ("L4", "L5"):
        out[f"{level} body"] = read_surface(anatomy / f"{level}_body_mm.stl", AXES)
        out[level] = read_surface(anatomy / f"{level}_whole_mm.stl", AXES)
    path = anatomy / "L4L5_disc_hex8_mm.vtu"
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
    out["L4-L5 disc"] = surface_of_cells(points, cells, name=f"{path.name} disc")
    out["L4-L5 nucleus"] = surface_of_cells(points, cells[region == NUCLEUS_REGION],
                                            name=f"{path.name} nucleus")
    return out


def spine_measures(surfaces: dict) -> dict:
    """``{(part, quantity): (unit, value)}`` of one L4-L5 (:func:`subject_surfaces` or
    ``segment_surfaces``), in table order."""
    import numpy as np

    from spinesim.geometry.measure import body_frame, body_measures, disc_measures, extents

    out = {}
    for level in ("L4", "L5"):
        body = surfaces[f"{level} body"]
        b = body_measures(body)
        for field, quantity, unit in BODY_ROWS:
            out[(f"{level} body", quantity)] = (unit, getattr(b, field))
        out[(level, "whole-vertebra volume")] = ("cm3", surfaces[level].volume_mm3 / 1000)
        size = extents(surfaces[level], body)
        for i, quantity in enumerate(("overall width (transverse processes)",
                                      "overall length (body to spinous process)")):
            out[(level, quantity)] = ("mm", size[i])
    z4, z5 = (body_frame(surfaces[f"{lv} body"])[2] for lv in ("L4", "L5"))
    out[("L4-L5", "segmental lordosis (angle between the body axes)")] = (
        "deg", float(np.degrees(np.arccos(np.clip(z4 @ z5, -1, 1)))))
    d = disc_measures(surfaces["L4-L5 disc"], surfaces["L4-L5 nucleus"])
    for field, quantity, unit in DISC_ROWS:
        out[("L4-L5 disc", quantity)] = (unit, getattr(d.body, field))
    out[("L4-L5 disc", "mean height (volume / section area)")] = ("mm", d.mean_height_mm)
    out[("L4-L5 disc", "nucleus volume fraction")] = ("-", d.nucleus_volume_fraction)
    return out


def generated_measures(resolution: float = 1.0, dimensions=None) -> dict:
    """:func:`spine_measures` of the generated intact L4-L5; ``dimensions`` overrides the
    generator's (``{"L4": {"endplate_width_mm": 50.5}}``)."""
    from spinesim.geometry.lumbar import lumbar_segment
    from spinesim.geometry.measure import segment_surfaces

    return spine_measures(segment_surfaces(lumbar_segment(
        "L4-L5", construct="intact", resolution=resolution, dimensions=dimensions)))


def comparison(subject: dict, model: dict):
    """Rows (part, quantity, unit, subject, spinesim, difference, difference_percent) of two
    :func:`spine_measures`; ``difference`` is spinesim minus subject in the row's unit,
    ``difference_percent`` its ratio to the subject's value (not given for angles)."""
    import pandas as pd

    rows = []
    for (part, quantity), (unit, a) in subject.items():
        b = model[(part, quantity)][1]
        percent = 100.0 * (b / a - 1) if unit != "deg" and a else float("nan")
        rows.append((part, quantity, unit, a, b, b - a, percent))
    return pd.DataFrame(rows, columns=["part", "quantity", "unit", "subject", "spinesim",
                                       "difference", "difference_percent"])


def measures(anatomy: Path, resolution: float = 1.0, dimensions=None):
    """The :func:`comparison` of the subject in ``anatomy`` with the generated intact L4-L5
    at ``resolution`` (and ``dimensions``)."""
    return comparison(spine_measures(subject_surfaces(anatomy)),
                      generated_measures(resolution, dimensions))


#: Generator dimensions fitted to the subject: (vertebra, dimension key, part, quantity of
#: the comparison table it must reproduce).
FITTED = (*((lv, key, f"{lv} body", q) for lv in ("L4", "L5") for key, q in (
    ("endplate_width_mm", "mid-height width"), ("endplate_depth_mm", "mid-height depth"),
    ("body_height_mm", "central height"), ("body_wedge_deg", "wedge angle"))),
    ("L4", "disc_height_mm", "L4-L5 disc", "mean height (volume / section area)"),
    ("L4", "disc_lordosis_deg", "L4-L5 disc", "wedge (lordosis) angle"))


def subject_dimensions(anatomy: Path, resolution: float = 1.0, iterations: int = 5,
                       subject: dict | None = None):
    """Generator dimensions (``{"L4": {...}, "L5": {...}}``, mm and degrees) whose segment
    reproduces the subject's body widths, depths, central heights and wedges, mean disc height
    and disc wedge (the segmental lordosis follows: the disc wedge plus half of each body's),
    and the largest correction of the last step (mm or degrees). ``subject``: the subject's
    :func:`spine_measures`, if already taken.

    Each measure moves one for one with its dimension (the concavities stay put), so each step
    adds the remaining difference to the dimension."""
    from spinesim.geometry.dimensions import level_dimensions

    subject = spine_measures(subject_surfaces(anatomy)) if subject is None else subject
    dims = {lv: {} for lv in ("L4", "L5")}
    for lv, key, _, _ in FITTED:
        dims[lv][key] = float(getattr(level_dimensions(lv), key))
    for _ in range(iterations):
        model = generated_measures(resolution, dims)
        last_step = 0.0
        for lv, key, part, quantity in FITTED:
            diff = model[(part, quantity)][1] - subject[(part, quantity)][1]
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
    subject = spine_measures(subject_surfaces(anatomy))
    table = comparison(subject, generated_measures(resolution))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "anatomy_comparison.csv", table, index=False, float_format="%.4g")
    if fit:
        dims, last_step = subject_dimensions(anatomy, resolution, subject=subject)
        write_csv(out / "anatomy_comparison_fitted.csv",
                  comparison(subject, generated_measures(resolution, dims)),
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
