"""ASTM F1717 vertebrectomy construct in static compression bending.

Bilateral screws and rods between two test blocks loaded through hinge pins (lumbar active
length 76 mm, moment arm 40 mm). Reports the construct stiffness, the load at which a rod or
screw surface first reaches its yield stress, and the peak stresses per newton. The model and
its assumptions are described in ``spinesim/model/f1717.py``.

Run: ``python examples/astm_f1717.py [--json FILE] [--rod-material ti6al4v|cocr|ss316l]
[--rod-diameter MM] [--rod-segments N] [--blocks uhmwpe|rigid] [--block-modulus MPA]
[--block-mesh MM]]``

Default: elastic UHMWPE test blocks (hex8, 2.5 mm) with the screws tied in; ``--blocks rigid``
clamps the screws at the block face (the statically determinate idealisation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spinesim.atomic import write_json
from spinesim.errors import SpinesimError
from spinesim.model.f1717 import BLOCK_MODELS, F1717Setup, block_constants, solve_f1717

ROD_MATERIALS = ("ti6al4v", "cocr", "ss316l")


def run(rod_material: str = "ti6al4v", rod_diameter_mm: float = 5.5,
        rod_segments: int = 16, blocks: str = "uhmwpe",
        block_modulus_mpa: float | None = None, block_mesh_mm: float = 2.5) -> dict:
    """Solve the construct and return the reported quantities (N, mm, MPa)."""
    setup = F1717Setup(rod_material=rod_material, rod_diameter_mm=rod_diameter_mm,
                       rod_segments=rod_segments, blocks=blocks,
                       block_modulus_mpa=block_modulus_mpa, block_mesh_mm=block_mesh_mm)
    r = solve_f1717(setup)
    if blocks == "rigid":
        block_text = "rigid (screws clamped at the block face)"
    else:
        E, nu = block_constants(setup)
        block_text = f"elastic {blocks}, E = {E:g} MPa, nu = {nu:g}, hex8 mesh {block_mesh_mm} mm"
    return {
        "stiffness_n_per_mm": r.stiffness_n_per_mm,
        "first_yield_load_n": r.first_yield_load_n,
        "first_yield_part": r.first_yield_part,
        "rod_stress_per_n_mpa": r.rod_stress_per_n_mpa,
        "screw_stress_per_n_mpa": r.screw_stress_per_n_mpa,
        "rod_material": rod_material,
        "rod_diameter_mm": rod_diameter_mm,
        "active_length_mm": 76.0,
        "moment_arm_mm": 40.0,
        "blocks": block_text,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ASTM F1717 compression bending of a bilateral "
                                            "screw-rod construct (beam model).")
    p.add_argument("--json", type=Path, help="write the results to this JSON file")
    p.add_argument("--rod-material", choices=ROD_MATERIALS, default="ti6al4v")
    p.add_argument("--rod-diameter", type=float, default=5.5, metavar="MM",
                   help="rod diameter in mm (default %(default)s)")
    p.add_argument("--rod-segments", type=int, default=16, help="beam elements per rod")
    p.add_argument("--blocks", choices=BLOCK_MODELS, default="uhmwpe",
                   help="test blocks: elastic UHMWPE solids with the screws tied in (default) "
                        "or rigid (screws clamped at the block face)")
    p.add_argument("--block-modulus", type=float, metavar="MPA",
                   help="Young's modulus of the elastic blocks in MPa (default: UHMWPE, "
                        "690 MPa)")
    p.add_argument("--block-mesh", type=float, default=2.5, metavar="MM",
                   help="element size of the elastic blocks, mm (default %(default)s)")
    args = p.parse_args(argv)
    if args.block_modulus is not None and not args.block_modulus > 0:
        p.error(f"--block-modulus must be a positive modulus in MPa, got {args.block_modulus}")
    if args.block_modulus is not None and args.blocks == "rigid":
        p.error("--block-modulus describes elastic blocks; it contradicts --blocks rigid")
    if not 0.5 <= args.block_mesh <= 10.0:
        p.error(f"--block-mesh must be between 0.5 and 10 mm, got {args.block_mesh}")
    if not 2.0 <= args.rod_diameter <= 12.0:
        p.error(f"--rod-diameter must be between 2 and 12 mm, got {args.rod_diameter}")
    try:
        out = run(args.rod_material, args.rod_diameter, args.rod_segments, args.blocks,
                  args.block_modulus, args.block_mesh)
    except SpinesimError as exc:
        print(f"astm_f1717: {exc}", file=sys.stderr)
        return 2
    print(f"F1717 construct, {args.rod_material} rods {args.rod_diameter} mm, "
          f"blocks {out['blocks']}:")
    print(f"  stiffness          {out['stiffness_n_per_mm']:.1f} N/mm")
    print(f"  rod stress         {out['rod_stress_per_n_mpa']:.4f} MPa per N")
    print(f"  screw stress       {out['screw_stress_per_n_mpa']:.4f} MPa per N")
    print(f"  first yield        {out['first_yield_load_n']:.0f} N ({out['first_yield_part']})")
    if args.json:
        write_json(args.json, out)
        print(f"  written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
