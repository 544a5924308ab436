"""Quick start: a block of vertebral bone, read from meshes/, compressed, solved, reported.

The block has a cortical shell, bony endplates and a cancellous core (``meshes/bone_block.vtu``,
made by ``meshes/make_samples.py``). Its bottom is fixed and its top carries a uniform
compressive load. The script reports the axial stiffness, stresses and strains per region, and
writes the fields as VTU, a JSON summary and a figure.

Run: ``python examples/quickstart.py [--load-n 400] [--out results/quickstart]``
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

import spinesim
from spinesim.atomic import atomic_path, write_json
from spinesim.failure.bone_overstrain import YIELD_STRAIN_COMPRESSION
from spinesim.fem import Isotropic
from spinesim.fem.constraints import Support
from spinesim.fem.export import write_solution
from spinesim.fem.loads import facets_of, surface_load
from spinesim.fem.post import cell_values, principal, solid_fields, von_mises
from spinesim.fem.static import LinearElasticModel

HERE = Path(__file__).resolve().parent
MESH = HERE.parent / "meshes" / "bone_block.vtu"

# Isotropic moduli (MPa) and Poisson's ratios per region, with sources:
MATERIALS = {
    # BMC Musculoskelet Disord 14:220 (2013), PMC3726285, Table 1 (citing Shirazi-Adl)
    "cortical_shell": (12000.0, 0.3),
    # same source; also J Healthc Eng 2017:9618940, PMC5592017
    "cancellous": (100.0, 0.2),
    # J Orthop Surg Res (2021), doi 10.1186/s13018-021-02237-4, Table 1
    "bony_endplate": (1000.0, 0.4),
}
#: 400 N compression: the "physiological" compressive load of a typical lumbar FE study,
#: J Healthc Eng 2017:9365068 (FE study of ELIF).
DEFAULT_LOAD_N = 400.0


def run(load_n: float = DEFAULT_LOAD_N, out: Path | None = None) -> dict:
    """Solve the block under ``load_n`` newtons of compression and return the summary."""
    mesh = spinesim.read_mesh(MESH)
    regions = mesh.solid_regions
    E = np.empty(len(regions))
    nu = np.empty(len(regions))
    for name, (e, n) in MATERIALS.items():
        sel = mesh.cells_in_region(name)
        E[sel], nu[sel] = e, n
    material = Isotropic.of(E, nu, len(regions))

    bottom = Support(mesh.node_sets["zmin"], (0, 1, 2), name="bottom fixed")
    model = LinearElasticModel(mesh, material, supports=[bottom])
    top = facets_of(mesh, "top_surface")
    corners = mesh.points[top.cells]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 2] - corners[:, 0],
                                         corners[:, 3] - corners[:, 1]), axis=1).sum()
    sol = model.solve(surface_load(mesh, top, pressure=load_n / area))
    fields = solid_fields(mesh, sol.displacement, material)
    stress = cell_values(fields, "stress")
    strain = cell_values(fields, "strain")
    vm = von_mises(stress)
    min_principal_strain = principal(strain)[:, 2]

    top_nodes = mesh.node_sets["zmax"]
    settlement = -float(sol.displacement[top_nodes, 2].mean())
    summary = {
        "mesh": str(MESH.relative_to(HERE.parent)),
        "n_nodes": mesh.n_nodes,
        "n_cells": mesh.n_solid_cells,
        "load_N": load_n,
        "loaded_area_mm2": area,
        "mean_top_settlement_mm": settlement,
        "axial_stiffness_N_per_mm": load_n / settlement,
        "reaction_z_N": float(sol.reactions[:, 2].sum()),
        "strain_energy_Nmm": sol.strain_energy,
        "solver": sol.info.get("method"),
        "regions": {},
    }
    for name in MATERIALS:
        sel = mesh.cells_in_region(name)
        summary["regions"][name] = {
            "cells": int(sel.sum()),
            "max_von_mises_MPa": float(vm[sel].max()),
            "min_principal_strain_microstrain": float(min_principal_strain[sel].min() * 1e6),
        }
    canc = summary["regions"]["cancellous"]
    # compressive yield strain of vertebral trabecular bone, 0.84 % (Kopperdahl & Keaveny 1998)
    canc["fraction_of_yield_strain"] = -canc["min_principal_strain_microstrain"] * 1e-6 / \
        YIELD_STRAIN_COMPRESSION
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_solution(out / "bone_block_solution.vtu", mesh, sol, fields,
                       cell_data={"E_MPa": E, "region": regions.astype(float)})
        _plot(mesh, min_principal_strain, out / "bone_block_strain.png", load_n)
        write_json(out / "summary.json", summary)
    return summary


def _plot(mesh, min_strain: np.ndarray, path: Path, load_n: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.collections import PolyCollection

    blk = mesh.solid_blocks[0]
    xyz = mesh.points[blk.cells]
    centroid = xyz.mean(axis=1)
    y_mid = 0.5 * (mesh.points[:, 1].min() + mesh.points[:, 1].max())
    near = np.abs(centroid[:, 1] - y_mid)
    sel = np.flatnonzero(near <= near.min() + 1e-9)
    lo, hi = xyz[sel].min(axis=1), xyz[sel].max(axis=1)  # x-z extent of each cut cell
    rects = np.stack([np.stack([lo[:, 0], lo[:, 2]], 1), np.stack([hi[:, 0], lo[:, 2]], 1),
                      np.stack([hi[:, 0], hi[:, 2]], 1), np.stack([lo[:, 0], hi[:, 2]], 1)], 1)
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    pc = PolyCollection(rects, array=-min_strain[sel] * 1e6, cmap="viridis", edgecolors="face")
    ax.add_collection(pc)
    ax.autoscale_view()
    fig.colorbar(pc, ax=ax, label="compressive principal strain (µε)")
    ax.set_xlabel("x, lateral (mm)")
    ax.set_ylabel("z, cranial (mm)")
    ax.set_title(f"Bone block under {load_n:.0f} N compression: mid-plane y = {y_mid:.1f} mm")
    ax.set_aspect("equal")
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-n", type=float, default=DEFAULT_LOAD_N,
                        help="compressive load on the top face, N (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("results/quickstart"),
                        help="output folder (default %(default)s)")
    args = parser.parse_args(argv)
    if not args.load_n > 0:
        parser.error(f"--load-n must be a positive force in N, got {args.load_n}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    s = run(args.load_n, args.out)
    print(f"bone block: {s['n_cells']} hex8 cells, {s['n_nodes']} nodes, solver {s['solver']}")
    print(f"load {s['load_N']:.0f} N -> settlement {s['mean_top_settlement_mm'] * 1e3:.1f} µm, "
          f"axial stiffness {s['axial_stiffness_N_per_mm']:.0f} N/mm")
    for name, r in s["regions"].items():
        print(f"  {name:15s} max von Mises {r['max_von_mises_MPa']:7.3f} MPa, "
              f"min principal strain {r['min_principal_strain_microstrain']:8.0f} µε")
    print(f"cancellous peak compressive strain = "
          f"{s['regions']['cancellous']['fraction_of_yield_strain']:.1%} of the 0.84 % yield strain")
    print(f"written: {args.out}/bone_block_solution.vtu, summary.json, bone_block_strain.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
