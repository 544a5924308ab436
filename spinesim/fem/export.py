"""Write solution fields to VTU/XDMF (or any meshio format) for ParaView and friends."""

from __future__ import annotations

import os

import numpy as np

from spinesim.fem.post import BlockField, cell_values, principal, von_mises
from spinesim.fem.static import StaticSolution
from spinesim.mesh.mesh import Mesh


def solution_fields(solution: StaticSolution, fields: list[BlockField] | None
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Point data (mm, N) and per-solid-cell data (MPa, strain) of a solution."""
    point_data = {"displacement": solution.displacement, "reaction_force": solution.reactions,
                  "applied_force": solution.external}
    cell_data: dict[str, np.ndarray] = {}
    if fields:
        stress = cell_values(fields, "stress")
        strain = cell_values(fields, "strain")
        cell_data = {
            "stress": stress.reshape(-1, 9),
            "strain": strain.reshape(-1, 9),
            "von_mises": von_mises(stress),
            "principal_stress": principal(stress),
            "principal_strain": principal(strain),
        }
    return point_data, cell_data


def write_solution(path: str | os.PathLike, mesh: Mesh, solution: StaticSolution,
                   fields: list[BlockField] | None = None,
                   cell_data: dict[str, np.ndarray] | None = None) -> None:
    """Write displacement, reactions and (with ``fields``) cell-averaged strain, stress, von
    Mises and principal values; the format follows the extension (``.vtu``, ``.xdmf``, ...).
    Written atomically (temporary file, then rename).

    ``cell_data`` adds arrays over the solid cells (block order), e.g. moduli.
    """
    from spinesim.mesh.io import write_mesh

    pd, cd = solution_fields(solution, fields)
    cd.update(cell_data or {})
    write_mesh(path, mesh, point_data=pd, cell_data=cd)
