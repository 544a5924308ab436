"""Material of every region of a motion-segment mesh, from the tissue and implant libraries.

Region names (the tags the lumbar generator writes and an imported mesh must use):
``cortical``, ``cancellous``, ``endplate``, ``posterior``, ``annulus``, ``nucleus``, ``cage``,
``graft``. Each maps to a library material that cites its source:

=============  ====================================  ==========================================
region         library material                       modifiers
=============  ====================================  ==========================================
cortical       ``cortical_shell``                     bone quality (osteoporotic x 0.67)
cancellous     ``cancellous_core``                    bone quality (x 0.34) or apparent density
endplate       ``bony_endplate``                      —
posterior      ``posterior_elements``                 sensitivity factor ``posterior_scale``
annulus        ``annulus_ground``                     —
nucleus        ``nucleus`` (nu 0.499)                 —
cage           implant ``peek`` or ``ti6al4v``        cage material
graft          ``graft_day0``                         healing (per-cell moduli later)
=============  ====================================  ==========================================

Moduli in MPa. Nothing here is tuned: the values are the libraries' cited values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spinesim.errors import MaterialError
from spinesim.mesh.mesh import Mesh
from spinesim.model.implant_materials import implant_material
from spinesim.model.tissue_materials import tissue_material, vertebral_bone

__all__ = ["CAGE_MATERIALS", "REGIONS", "RegionMaterial", "cell_moduli", "region_materials"]

#: Region names of a motion-segment mesh.
REGIONS = ("cortical", "cancellous", "endplate", "posterior", "annulus", "nucleus", "cage",
           "graft")
#: Cage materials: scenario name -> implant library name.
CAGE_MATERIALS = {"peek": "peek", "titanium": "ti6al4v"}


@dataclass(frozen=True)
class RegionMaterial:
    """Isotropic linear-elastic constants of one region (E in MPa) and where they come from."""

    region: str
    E_mpa: float
    nu: float
    material: str
    source: str


def region_materials(*, bone_quality: str = "healthy", rho_app_g_cm3: float | None = None,
                     density_relation: str = "morgan2003", cancellous_scale: float = 1.0,
                     posterior_scale: float = 1.0, cage_material: str = "peek"
                     ) -> dict[str, RegionMaterial]:
    """Materials of all :data:`REGIONS` for a bone quality and a cage material.

    Parameters
    ----------
    bone_quality : {"healthy", "osteoporotic"}
    rho_app_g_cm3 : float, optional
        Cancellous apparent density (g/cm³) for the density–modulus relation; only with
        ``bone_quality="healthy"``.
    density_relation : str
        The relation for ``rho_app_g_cm3``: a key of
        :data:`spinesim.model.tissue_materials.DENSITY_MODULUS_RELATIONS`.
    cancellous_scale : float
        Factor (> 0, -) on the cancellous modulus that bone quality or density give (the
        scenario's ``bone.cancellous_modulus_scale``: patient-to-patient variation).
    posterior_scale : float
        Factor (> 0, -) on the posterior elements' homogenized modulus (3 500 MPa; the
        scenario's ``bone.posterior_modulus_scale``). Bone quality does not scale it: the
        reference gives no osteoporotic factor for the posterior elements.
    cage_material : {"peek", "titanium"}
    """
    scales = {}                     # region -> (factor, scenario key)
    for region, value, name, scenario_key in (
            ("cancellous", cancellous_scale, "cancellous_scale", "bone.cancellous_modulus_scale"),
            ("posterior", posterior_scale, "posterior_scale", "bone.posterior_modulus_scale")):
        try:
            factor = float(value)
        except (TypeError, ValueError):
            factor = math.nan
        if not (math.isfinite(factor) and factor > 0.0):
            raise MaterialError(f"{name} = {value!r} must be a finite number > 0 (factor on the "
                                f"{region} modulus)")
        scales[region] = (factor, scenario_key)
    bone = vertebral_bone(bone_quality, rho_app_g_cm3=rho_app_g_cm3,
                          relation=density_relation)
    key = str(cage_material).strip().lower()
    if key not in CAGE_MATERIALS:
        raise MaterialError(f"unknown cage material {cage_material!r}; allowed: "
                            f"{', '.join(CAGE_MATERIALS)}")
    cage = implant_material(CAGE_MATERIALS[key])
    tissues = {"cortical": bone["cortical_shell"], "cancellous": bone["cancellous_core"],
               "endplate": tissue_material("bony_endplate"),
               "posterior": tissue_material("posterior_elements"),
               "annulus": tissue_material("annulus_ground"),
               "nucleus": tissue_material("nucleus"),
               "graft": tissue_material("graft_day0")}
    out = {r: RegionMaterial(r, m.E_mpa, m.nu, m.name, m.source) for r, m in tissues.items()}
    for region, (factor, scenario_key) in scales.items():
        if factor != 1.0:
            c = out[region]
            out[region] = RegionMaterial(region, c.E_mpa * factor, c.nu, c.material,
                                         f"{c.source} Scaled by {factor:g} ({scenario_key}).")
    out["cage"] = RegionMaterial("cage", cage.E_mpa, float(cage.nu), cage.name, cage.source)
    return out


def cell_moduli(mesh: Mesh, materials: dict[str, RegionMaterial]) -> tuple[np.ndarray, np.ndarray]:
    """Per-solid-cell Young's modulus (MPa) and Poisson's ratio from the region tags.

    Raises
    ------
    MaterialError
        If a cell's region has no name or no material; the message names the region tag, its
        name and the first cell ids.
    """
    regions = mesh.solid_regions
    E = np.full(len(regions), np.nan)
    nu = np.full(len(regions), np.nan)
    for tag in np.unique(regions):
        name = mesh.region_names.get(int(tag))
        cells = regions == tag
        if name not in materials:
            ids = np.flatnonzero(cells)[:5].tolist()
            raise MaterialError(f"region tag {int(tag)} ({name!r}) has no material (cells "
                                f"{ids}...); known regions: {', '.join(materials)}")
        E[cells], nu[cells] = materials[name].E_mpa, materials[name].nu
    return E, nu
