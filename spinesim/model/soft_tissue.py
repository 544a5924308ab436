"""Soft tissues of the intact motion segment as one-sided springs: ligaments (tension-only,
bilinear or linear), annulus fibres (tension-only rebars) and facet contact (compression-only),
with their sources.

Units: moduli MPa, areas mm², lengths and gaps mm, stiffness N/mm, forces N. Every value cites
its source next to it with the provenance and confidence grade of the spinesim reference
collection (H use as is; M check the primary paper before freezing a tolerance on it; L order
of magnitude only). Two-valued entries carry the range.

What is *not* sourced and therefore has no default here: the ligament pre-strain and the annulus
fibre pre-strain (``prestrain``), the initial facet-joint gap (``gap_mm``) and the number of
fibres one spring stands for. The contact penalty stiffness is a numerical choice, not a tissue
property; :func:`contact_penalty` derives it from the adjacent element's stiffness.

The trilinear "Berlin model" ligament set (PMC8147546, Table 2) is deliberately not carried:
its stiffness units are uncertain (labelled N/mm, magnitudes of N per unit strain; confidence
L) until the paper has been checked.

>>> LIGAMENTS["ALL"].E_small_mpa, LIGAMENTS["ALL"].transition_strain
(7.8, 0.12)
>>> [round(float(v), 3) for v in LIGAMENTS["LF"].stiffness(19.0)[:2]]
[31.579, 41.053]
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MaterialError
from spinesim.fem.springs import SpringSet
from spinesim.model.tissue_materials import TissueMaterial, tissue_material

log = logging.getLogger(__name__)

__all__ = [
    "ANNULUS_FIBRE_LAYERS",
    "ANNULUS_FIBRE_MODULI_FIVE_LAYER_MPA",
    "FIBRE_ANGLE_DEG",
    "FIBRE_ANGLE_RANGE_DEG",
    "LIGAMENTS",
    "FibreLayer",
    "Ligament",
    "annulus_fibre_springs",
    "contact_penalty",
    "facet_cartilage",
    "facet_contact_springs",
    "fibre_directions",
    "ligament",
    "ligament_springs",
]

# Citations as in the reference collection's *Sources* (disc_ligaments_facets.md).
MSD13 = ("BMC Musculoskelet Disord 14:220 (2013), PMC3726285, Table 1 (citing Shirazi-Adl and "
         "Smit)")
JHE17 = "J Healthc Eng 2017:9618940, PMC5592017"
BMRI13 = "BioMed Res Int 2013:705185, Table 1"
KUO10 = ("Kuo et al., BMC Musculoskelet Disord 11:151 (2010), doi 10.1186/1471-2474-11-151, "
         "PMC2913991, Table 3")
PMC7591979 = "PMC7591979, Table 2 (thoracolumbar FE model, ligament springs k = E·A/L)"
PINTAR92 = "Pintar et al., J Biomech 25:1351 (1992)"
GRUBER24 = ("Gruber G et al., Front Bioeng Biotechnol 12:1391957 (2024), "
            "doi 10.3389/fbioe.2024.1391957")


@dataclass(frozen=True)
class Ligament:
    """A spinal ligament's tension-only law and its data.

    Attributes
    ----------
    name : str
        ``ALL``, ``PLL``, ``LF``, ``CL``, ``ITL``, ``ISL`` or ``SSL``.
    E_small_mpa, E_large_mpa : float
        Moduli below and above the transition strain, MPa. Read here as tangent moduli of a
        continuous bilinear stress-strain law (the force does not jump at the transition).
    transition_strain : float
        Strain (-) at which the modulus switches.
    area_mm2 : float
        Cross-section, mm² (the nominal, first value of the reference).
    length_mm : float or None
        Reference length, mm (the model uses its own geometry; kept as data).
    failure_load_n : float or None
        Maximum failure load, N.
    area_range_mm2, E_large_range_mpa : (low, high) or None
        Where the reference gives a second (bracketed) value.
    k_model_n_per_mm : float or None
        Single-spring stiffness k = E·A/L of a thoracolumbar FE model (PMC7591979), N/mm.
    k_measured_n_per_mm : float or None
        Measured whole-ligament stiffness (Pintar et al. 1992), N/mm.
    source, confidence : str
    """

    name: str
    E_small_mpa: float
    transition_strain: float
    E_large_mpa: float
    area_mm2: float
    length_mm: float | None
    failure_load_n: float | None
    area_range_mm2: tuple[float, float] | None
    E_large_range_mpa: tuple[float, float] | None
    k_model_n_per_mm: float | None
    k_measured_n_per_mm: float | None
    source: str
    confidence: str = "H"

    def __post_init__(self) -> None:
        if not (0 < self.E_small_mpa <= self.E_large_mpa and 0 < self.transition_strain
                and self.area_mm2 > 0):
            raise MaterialError(f"ligament {self.name}: need 0 < E_small <= E_large, "
                                "transition_strain > 0, area > 0")
        for key, value in (("area_range_mm2", self.area_mm2),
                           ("E_large_range_mpa", self.E_large_mpa)):
            rng = getattr(self, key)
            if rng is not None and not rng[0] <= value <= rng[1]:
                raise MaterialError(f"ligament {self.name}: {value} outside {key} {rng}")

    def with_values(self, *, area_mm2: float | None = None,
                    E_large_mpa: float | None = None) -> Ligament:
        """A copy with another area (mm²) or large-strain modulus (MPa) inside the sourced range.

        Raises
        ------
        MaterialError
            If the value lies outside the range (or the reference gives no second value).
        """
        out = self
        for key, rkey, v in (("area_mm2", "area_range_mm2", area_mm2),
                             ("E_large_mpa", "E_large_range_mpa", E_large_mpa)):
            if v is None:
                continue
            rng = getattr(self, rkey) or (getattr(self, key),) * 2
            if not rng[0] <= v <= rng[1]:
                raise MaterialError(f"ligament {self.name}: {key} {v} outside the sourced range "
                                    f"{rng}")
            out = dataclasses.replace(out, **{key: float(v)})
        return out

    def stiffness(self, length_mm: ArrayLike, n_springs: int = 1
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bilinear spring data for ``n_springs`` parallel springs of lengths ``length_mm``.

        Each spring carries ``area_mm2 / n_springs``; ``k = E A / L`` (N/mm) below and above the
        transition elongation ``transition_strain * L`` (mm).

        Returns
        -------
        k_small, k_large, transition_mm : arrays like ``length_mm``
        """
        L = np.asarray(length_mm, float)
        if np.any(L <= 0):
            raise ValueError(f"ligament {self.name}: spring lengths must be > 0 mm")
        a = self.area_mm2 / n_springs
        return self.E_small_mpa * a / L, self.E_large_mpa * a / L, self.transition_strain * L


_BILINEAR = (f"E small, transition strain, E large, first area: {MSD13}; {JHE17}. Length, "
             f"failure load, bracketed area/E large: {KUO10}. k = E·A/L set: {PMC7591979} "
             f"(H for the numbers, M as lumbar physiology). Measured stiffness: {PINTAR92} "
             "(from the literature, not re-checked, M). All bilinear values found in source, H.")

#: Ligament data: disc_ligaments_facets.md "Bilinear set" and "Single-spring stiffness sets".
LIGAMENTS: dict[str, Ligament] = {lg.name: lg for lg in (
    # name, E small (MPa), transition strain, E large (MPa), area (mm2), length (mm),
    # failure load (N), area range, E large range, k = E·A/L [PMC7591979] (N/mm),
    # measured k [Pintar92] (N/mm). Bilinear columns [MSD13]/[JHE17]; length, failure load and
    # the second value of each range Kuo et al. 2010 (PMC2913991), all found in source, H.
    Ligament("ALL", 7.8, 0.12, 20.0, 63.7, 13.0, 510.0, (53.0, 63.7), None, 8.74, 33.0,
             _BILINEAR),
    Ligament("PLL", 10.0, 0.11, 20.0, 20.0, 11.0, 384.0, (16.0, 20.0), (20.0, 50.0), 5.83, 20.4,
             _BILINEAR),
    Ligament("LF", 15.0, 0.062, 19.5, 40.0, 19.0, 340.0, (40.0, 67.0), None, 15.38, 27.2,
             _BILINEAR),
    Ligament("CL", 7.5, 0.25, 32.9, 30.0, None, None, None, None, None, 33.9, _BILINEAR),
    Ligament("ITL", 10.0, 0.18, 58.7, 1.8, 22.0, 70.0, None, None, 0.19, None, _BILINEAR),
    Ligament("ISL", 10.0, 0.14, 11.6, 40.0, 13.0, 130.0, (26.0, 40.0), None, 10.85, 11.5,
             _BILINEAR),
    Ligament("SSL", 8.0, 0.20, 15.0, 30.0, 11.0, 200.0, (23.0, 30.0), None, 2.39, 23.7,
             _BILINEAR),
)}


def ligament(name: str) -> Ligament:
    """The ligament called ``name`` (case-insensitive); MaterialError lists the names."""
    key = str(name).strip().upper()
    if key not in LIGAMENTS:
        raise MaterialError(f"unknown ligament {name!r}; allowed: {', '.join(LIGAMENTS)}")
    return LIGAMENTS[key]


def _pairs_lengths(points: ArrayLike, pairs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, pr = np.asarray(points, float), np.asarray(pairs, np.int64)
    if pr.ndim != 2 or pr.shape[1] != 2 or len(pr) == 0:
        raise ValueError(f"pairs must be a non-empty (n, 2) array of node ids, got {pr.shape}")
    return pr, np.linalg.norm(p[pr[:, 1]] - p[pr[:, 0]], axis=1)


def ligament_springs(lig: Ligament | str, points: ArrayLike, pairs: ArrayLike, *,
                     prestrain: float, law: str = "bilinear", name: str | None = None
                     ) -> SpringSet:
    """Tension-only springs for one ligament, split over ``len(pairs)`` parallel springs.

    Parameters
    ----------
    lig : Ligament or name
    points : (n_nodes, 3) mm
        Positions by model node id.
    pairs : (n, 2) int
        Insertion node pairs (i, j); the spring runs along the line i -> j.
    prestrain : float
        Ligament strain (-) in the unloaded model: > 0 pre-tension, < 0 slack. Not sourced
        (the reference lists it as not captured): no default.
    law : {"bilinear", "k_model", "k_measured"}
        ``bilinear``: E small / E large switching at the transition strain (tangent moduli,
        continuous force), k = E (A/n) / L with L each spring's length. ``k_model``: linear,
        the PMC7591979 stiffness split over the springs. ``k_measured``: linear, Pintar et al.
        (1992), split likewise.
    name : str, optional
        Spring set name; default the ligament's name.
    """
    lg = ligament(lig) if isinstance(lig, str) else lig
    pr, L = _pairs_lengths(points, pairs)
    n = len(pr)
    slack = -float(prestrain) * L
    if law == "bilinear":
        k1, k2, tr = lg.stiffness(L, n)
        k, breaks = np.stack([k1, k2], axis=1), tr[:, None]
    elif law in ("k_model", "k_measured"):
        total = lg.k_model_n_per_mm if law == "k_model" else lg.k_measured_n_per_mm
        if total is None:
            raise MaterialError(f"ligament {lg.name}: the reference gives no {law} stiffness")
        k, breaks = np.full(n, total / n), None
    else:
        raise ValueError(f"law must be 'bilinear', 'k_model' or 'k_measured', got {law!r}")
    return SpringSet.between(name or lg.name, points, pr, k, kind="tension", slack_mm=slack,
                             breaks_mm=breaks, labels=lg.name)


# --------------------------------------------------------------------------- annulus fibres
@dataclass(frozen=True)
class FibreLayer:
    """Annulus fibre data of a pair of layers (1 = outermost): BMC Musculoskelet Disord 14:220
    (2013), PMC3726285, Table 1 (citing Shirazi-Adl and Smit); found in source, H."""

    layers: tuple[int, int]
    E_mpa: float
    area_mm2: float


#: Graded fibres, outer to inner: BMC Musculoskelet Disord 14:220 (2013) Table 1 (found, H).
#: The reference takes layer 1 as the outermost (the table lists outer to inner).
ANNULUS_FIBRE_LAYERS: tuple[FibreLayer, ...] = (
    FibreLayer((1, 2), 550.0, 0.50),
    FibreLayer((3, 4), 495.0, 0.39),
    FibreLayer((5, 6), 413.0, 0.31),
    FibreLayer((7, 8), 358.0, 0.24),
)
#: Five-layer alternative moduli, BioMed Res Int 2013:705185 Table 1 (found, H); the layer order
#: is not stated with them (550 MPa matches the outermost value above).
ANNULUS_FIBRE_MODULI_FIVE_LAYER_MPA = (360.0, 408.0, 455.0, 503.0, 550.0)
#: Fibre angle to the transverse plane, ±30°; literature 24-30° (Gruber et al. 2024, found, H).
FIBRE_ANGLE_DEG = 30.0
FIBRE_ANGLE_RANGE_DEG = (24.0, 30.0)


def fibre_directions(tangent: ArrayLike, axis: ArrayLike, sign: ArrayLike,
                     angle_deg: float = FIBRE_ANGLE_DEG) -> np.ndarray:
    """Unit fibre directions (n, 3): the circumferential ``tangent`` turned by ``angle_deg``
    (degrees, to the transverse plane, inside ``FIBRE_ANGLE_RANGE_DEG``) towards the disc
    ``axis``; ``sign`` ±1 per fibre alternates the layers' crossing."""
    lo, hi = FIBRE_ANGLE_RANGE_DEG
    if not lo <= angle_deg <= hi:
        raise MaterialError(f"fibre angle {angle_deg} deg outside the sourced range {lo}-{hi} "
                            f"deg ({GRUBER24})")
    t = np.atleast_2d(np.asarray(tangent, float))
    a = np.broadcast_to(np.asarray(axis, float), t.shape)
    a = a - np.einsum("pi,pi->p", a, t)[:, None] * t / np.einsum("pi,pi->p", t, t)[:, None]
    t = t / np.linalg.norm(t, axis=1)[:, None]
    a = a / np.linalg.norm(a, axis=1)[:, None]
    th = np.radians(angle_deg)
    return np.cos(th) * t + np.asarray(sign, float).reshape(-1, 1) * np.sin(th) * a


def annulus_fibre_springs(name: str, points: ArrayLike, pairs: ArrayLike, layer: ArrayLike, *,
                          prestrain: float, fibres_per_spring: ArrayLike) -> SpringSet:
    """Tension-only fibre springs, ``k = fibres_per_spring * E A / L`` with E and A of the
    spring's annulus ``layer`` (1..8, 1 outermost; :data:`ANNULUS_FIBRE_LAYERS`).

    Parameters
    ----------
    name : spring set name
    points : (n_nodes, 3) mm, positions by model node id
    pairs : (n, 2) int, fibre end nodes (along the fibre direction, see :func:`fibre_directions`)
    layer : (n,) int in 1..8
    prestrain : float
        Fibre strain in the unloaded model (-); not sourced, no default.
    fibres_per_spring : float or (n,)
        How many fibres of the tabulated cross-section one spring stands for (a meshing
        choice: fibre spacing times the spring's tributary width); no default.
    """
    pr, L = _pairs_lengths(points, pairs)
    lay = np.broadcast_to(np.asarray(layer, np.int64), (len(pr),))
    if np.any((lay < 1) | (lay > 8)):
        raise ValueError("annulus layer must be in 1..8 (1 = outermost)")
    E = np.array([g.E_mpa for g in ANNULUS_FIBRE_LAYERS])[(lay - 1) // 2]
    A = np.array([g.area_mm2 for g in ANNULUS_FIBRE_LAYERS])[(lay - 1) // 2]
    nf = np.broadcast_to(np.asarray(fibres_per_spring, float), (len(pr),))
    if np.any(nf <= 0):
        raise ValueError("fibres_per_spring must be > 0")
    return SpringSet.between(name, points, pr, nf * E * A / L, kind="tension",
                             slack_mm=-float(prestrain) * L,
                             labels=np.char.add("annulus layer ", lay.astype(str)))


# --------------------------------------------------------------------------- facet joints
def facet_cartilage() -> TissueMaterial:
    """Facet articular cartilage (E 24 MPa, range 10-35; nu 0.3-0.4), from the tissue library
    (Sci Rep 2025, J Orthop Surg Res 2021, J Healthc Eng 2017; M). Contact between the facets is
    compression-only and frictionless in the same models."""
    return tissue_material("facet_cartilage")


def contact_penalty(E_adjacent_mpa: ArrayLike, area_mm2: ArrayLike, thickness_mm: ArrayLike,
                    factor: float = 100.0) -> np.ndarray:
    """Contact (penalty) stiffness per node pair, N/mm: ``factor * E A / h``.

    ``E A / h`` is the axial stiffness of the material layer under the contact node: modulus of
    the adjacent tissue (facet cartilage, or bone where no cartilage is meshed), tributary area
    of the node, and thickness of that layer (cartilage thickness, or the element size normal
    to the surface). A penalty spring in series with that layer adds ``1/factor`` of its
    compliance, so contact forces and motions differ from impenetrable contact by about
    ``h / (factor * L)`` relative, L the length of the loaded path (at most ``1/factor``).
    ``factor = 100`` keeps that below 1 % while adding entries only about 100 times the
    neighbouring element stiffness, which direct solvers take without loss and AMG-CG in a few
    more iterations. This is a numerical choice, not a tissue property. Measured in
    tests/test_soft_tissue.py: two 2 mm blocks in uniaxial contact (h = 1 mm) deviate from
    impenetrable contact by 2.4 %, 0.25 % and 0.025 % at factors 10, 100 and 1000; on a
    tilted contact that opens on one side, force and moment change by 0.22 % and 0.08 % from
    factor 100 to 1000 (tolerance asserted: 0.5 %).

    Parameters
    ----------
    E_adjacent_mpa : float or array, MPa
    area_mm2 : float or array, tributary contact area per node pair, mm²
    thickness_mm : float or array, thickness of the adjacent layer, mm
    factor : float, penalty over the layer stiffness (-)

    Returns
    -------
    ndarray
        Stiffness per node pair, N/mm.
    """
    if not factor > 0:
        raise ValueError(f"factor must be > 0, got {factor}")
    E, A, h = (np.asarray(v, float) for v in (E_adjacent_mpa, area_mm2, thickness_mm))
    if np.any(E <= 0) or np.any(A <= 0) or np.any(h <= 0):
        raise ValueError("E_adjacent_mpa, area_mm2 and thickness_mm must be > 0")
    return factor * E * A / h


def facet_contact_springs(name: str, pairs: ArrayLike, normal: ArrayLike, *, gap_mm: ArrayLike,
                          stiffness_n_per_mm: ArrayLike) -> SpringSet:
    """Compression-only contact springs between facing facet nodes.

    Parameters
    ----------
    name : spring set name
    pairs : (n, 2) int
        Node ``i`` on one articular surface, node ``j`` facing it on the other.
    normal : (3,) or (n, 3)
        Contact normal from ``i``'s surface towards ``j``'s.
    gap_mm : float or (n,)
        Initial gap (mm): contact closes when the approach along the normal exceeds it. Not
        sourced (the reference lists it as a parameter): no default.
    stiffness_n_per_mm : float or (n,)
        Penalty stiffness (N/mm), e.g. from :func:`contact_penalty`.
    """
    pr = np.asarray(pairs, np.int64)
    return SpringSet(name, pr, np.broadcast_to(np.asarray(normal, float), (len(pr), 3)),
                     stiffness_n_per_mm, kind="compression", slack_mm=gap_mm,
                     labels=f"facet {name}")
