"""Tissue materials: linear-elastic constants of a lumbar motion segment, with their sources.

Units: moduli in MPa, thicknesses in mm, densities in g/cm³ (kept in the unit of the source
inside the density–modulus formulas). Every value cites its source next to it, with the
provenance and confidence grade of the spinesim reference collection (H use as is; M check the
primary paper before freezing a tolerance on it; L order of magnitude; "–" ungraded, treat as
M). Values the reference gives as a range carry the range (``E_range_mpa``, ``nu_range``);
*derived here* values (graft, fusion mass, a midpoint) are flagged in ``provenance`` and are meant
to be varied with :meth:`TissueMaterial.with_modulus`.

Nominal values where the reference gives two sourced models: the value of the
BMC Musculoskelet Disord 14:220 (2013) model ([MSD13]), so that the default set is one
published model where possible; the other model's value is kept in the range.

Bone quality: :func:`osteoporotic` (cortical × 0.67, cancellous × 0.34), or a density through
:func:`cancellous_modulus_from_density`. There is no sourced mapping from a DXA T-score to a
modulus or density, so a T-score is refused (see :func:`vertebral_bone`).

>>> tissue_material("cancellous_core").E_mpa
100.0
>>> round(osteoporotic("cortical_shell").E_mpa, 6)
8040.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import MaterialError
from spinesim.model.library import lookup
from spinesim.fem.materials import Isotropic, TransverselyIsotropic
from spinesim.model.implant_materials import implant_material

__all__ = [
    "DENSITY_MODULUS_RELATIONS",
    "MAX_APPARENT_DENSITY_G_CM3",
    "OSTEOPOROSIS_FACTORS",
    "TISSUE_MATERIALS",
    "TissueMaterial",
    "cancellous_modulus_from_density",
    "osteoporotic",
    "tissue_material",
    "transversely_isotropic_cancellous",
    "vertebral_bone",
]

_CONFIDENCES = ("H", "M", "L", "–")


@dataclass(frozen=True)
class TissueMaterial:
    """An isotropic linear-elastic tissue material with its provenance.

    Attributes
    ----------
    name : str
        Library key (e.g. ``cortical_shell``).
    E_mpa : float
        Nominal Young's modulus, MPa.
    nu : float
        Nominal Poisson's ratio (-).
    source : str
        Citation of every value, naming which value comes from which paper.
    provenance : str
        How the values were obtained (found in source / from the literature, not re-checked /
        derived here: ...).
    confidence : str
        Grade of the reference collection: ``H``, ``M``, ``L`` or ``–`` (ungraded).
    E_range_mpa : tuple of float or None
        (low, high) modulus range where the reference gives one; ``E_mpa`` lies inside it.
    nu_range : tuple of float or None
        (low, high) Poisson's-ratio range where the reference gives one.
    thickness_mm : float or None
        Shell thickness in mm for shell-like tissues where sourced, else None.
    note : str
        How nominal values were chosen, caveats, what is missing.
    """

    name: str
    E_mpa: float
    nu: float
    source: str
    provenance: str
    confidence: str
    E_range_mpa: tuple[float, float] | None = None
    nu_range: tuple[float, float] | None = None
    thickness_mm: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.E_mpa) and self.E_mpa > 0):
            raise MaterialError(f"{self.name}: E_mpa must be finite and > 0, got {self.E_mpa}")
        if not -1.0 < self.nu < 0.5:
            raise MaterialError(f"{self.name}: nu must be in (-1, 0.5), got {self.nu}")
        for key, value in (("E_range_mpa", self.E_mpa), ("nu_range", self.nu)):
            rng = getattr(self, key)
            if rng is None:
                continue
            lo, hi = (float(v) for v in rng)
            if not lo <= value <= hi:
                raise MaterialError(f"{self.name}: {key.split('_')[0]} {value} must lie in "
                                    f"{key} ({lo}, {hi})")
            object.__setattr__(self, key, (lo, hi))
        if self.thickness_mm is not None and not self.thickness_mm > 0:
            raise MaterialError(f"{self.name}: thickness_mm must be > 0 or None, "
                                f"got {self.thickness_mm}")
        if self.confidence not in _CONFIDENCES:
            raise MaterialError(f"{self.name}: confidence must be one of {_CONFIDENCES}, "
                                f"got {self.confidence!r}")
        if not self.source.strip():
            raise MaterialError(f"{self.name}: every tissue material needs a source")

    def with_modulus(self, E_mpa: float) -> TissueMaterial:
        """A copy with modulus ``E_mpa`` (MPa), e.g. for a sensitivity study.

        Raises
        ------
        MaterialError
            If the material carries a sourced range and ``E_mpa`` lies outside it.
        """
        if self.E_range_mpa is not None and not \
                self.E_range_mpa[0] <= E_mpa <= self.E_range_mpa[1]:
            raise MaterialError(f"{self.name}: E_mpa {E_mpa} outside the sourced range "
                                f"{self.E_range_mpa} MPa")
        return dataclasses.replace(self, E_mpa=float(E_mpa))

    def fe(self, n_cells: int) -> Isotropic:
        """The FE material law for ``n_cells`` cells (:class:`spinesim.fem.materials.Isotropic`)."""
        return Isotropic.of(self.E_mpa, self.nu, n_cells)


# Citations as given in the spinesim reference collection (bone.md, disc_ligaments_facets.md,
# healing.md, *Sources*). The reference gives journal/year/ids, not always the authors.
_MSD13 = ("[MSD13] BMC Musculoskelet Disord 14:220 (2013), PMC3726285, Table 1 "
          "(citing Shirazi-Adl and Smit)")
_JOSR21 = "[JOSR21] J Orthop Surg Res (2021), doi 10.1186/s13018-021-02237-4, Table 1"
_JHE17 = "[JHE17] J Healthc Eng 2017:9618940, PMC5592017"
_IJSS5781 = ("[IJSS5781] Int J Spine Surg, material table of a Goel-group lumbar FE model "
             "(ijssurgery.com item 5781)")
_BMRI13 = "[BMRI13] BioMed Res Int 2013:705185, Table 1"
_SR25 = "[SR25] Sci Rep (2025), doi 10.1038/s41598-025-03377-x, Table 1"
_POLIKEIT04 = "[Polikeit04] Polikeit et al., J Biomech 37:1061 (2004)"
_MORGAN03 = "[Morgan03] Morgan, Bayraktar, Keaveny, J Biomech 36:897 (2003)"
_KOPPERDAHL02 = ("[Kopperdahl02] Kopperdahl et al. (2002), QCT-modulus relation for vertebral "
                 "trabecular bone")
_LP02 = ("[LP02] Lacroix & Prendergast, J Biomech 35:1163 (2002), "
         "doi 10.1016/S0021-9290(02)00086-6")
_REVWIRES = ("[RevWIREs] review of mechanobiological healing models, WIREs Syst Biol Med, "
             "PMC5082538 (row 'Lacroix and Prendergast' and the Geris et al. variant)")
_FOUND = "found in source"

_PEEK = implant_material("peek")

TISSUE_MATERIALS: dict[str, TissueMaterial] = {m.name: m for m in (
    # E 12 000 MPa, nu 0.3: [MSD13]; [JOSR21]. Found in source, H.
    # Thickness 0.4 mm: [IJSS5781], found in source, M (no range sourced).
    TissueMaterial(
        "cortical_shell", 12_000.0, 0.3,
        source=f"E, nu: {_MSD13}; {_JOSR21}. Thickness 0.4 mm: {_IJSS5781}.",
        provenance=_FOUND, confidence="H", thickness_mm=0.4,
        note="Thickness is graded M and has no sourced range."),
    # E 100 MPa, nu 0.2: [MSD13]; [JHE17]. Found in source, H.
    TissueMaterial(
        "cancellous_core", 100.0, 0.2,
        source=f"E, nu: {_MSD13}; {_JHE17}.", provenance=_FOUND, confidence="H",
        note="Isotropic default. Do not combine with a density-based modulus (Morgan 2003) in "
             "one model: they describe the same tissue at different detail (bone.md)."),
    # E 3 500 MPa, nu 0.25: [MSD13]; [IJSS5781]. Found in source, H.
    TissueMaterial(
        "posterior_elements", 3_500.0, 0.25,
        source=f"E, nu: {_MSD13}; {_IJSS5781}.", provenance=_FOUND, confidence="H",
        note="No sourced osteoporotic scaling."),
    # E 1 000 MPa: [IJSS5781] (as a 0.25 mm shell) and [JOSR21]; nu 0.4: [JOSR21]. Found, M.
    TissueMaterial(
        "bony_endplate", 1_000.0, 0.4,
        source=f"E: {_IJSS5781}; {_JOSR21}. nu: {_JOSR21}. Thickness 0.25 mm: {_IJSS5781}.",
        provenance=_FOUND, confidence="M", thickness_mm=0.25,
        note="Uniform endplate. A graded alternative (12 000 rim -> 6 000 -> 2 000 MPa centre, "
             "[BMRI13], M) is not modelled here. No sourced osteoporotic scaling."),
    # E 24-25 MPa, nu 0.25-0.4: 24 / 0.4 [IJSS5781]; 25 / 0.25 [MSD13]. Found in source, M.
    TissueMaterial(
        "cartilage_endplate", 25.0, 0.25,
        source=f"E 25, nu 0.25: {_MSD13}. E 24, nu 0.4: {_IJSS5781}.",
        provenance=_FOUND, confidence="M",
        E_range_mpa=(24.0, 25.0), nu_range=(0.25, 0.4),
        note="Nominal = the [MSD13] pair (25 MPa, 0.25); [IJSS5781] uses 24 MPa, 0.4."),
    # E 4.2 MPa, nu 0.45: [MSD13]; [BMRI13]. Found in source, H.
    TissueMaterial(
        "annulus_ground", 4.2, 0.45,
        source=f"E, nu: {_MSD13}; {_BMRI13}.", provenance=_FOUND, confidence="H",
        note="Linear ground substance only; the fibres are separate tension-only rebars."),
    # E 1.0 MPa, nu 0.499: [MSD13]. Found in source, H.
    TissueMaterial(
        "nucleus", 1.0, 0.499,
        source=f"E, nu: {_MSD13}. Bulk modulus 1 666.7 MPa (not used): {_IJSS5781}.",
        provenance=_FOUND, confidence="H",
        note="Nearly incompressible: K = E/(3(1-2 nu)) = 166.7 MPa with these values. "
             "[IJSS5781] (M) gives K 1 666.7 MPa, which at E 1 MPa means nu ~ 0.4999; use "
             "nu 0.4999 only with an element formulation that does not lock."),
    # Moderately degenerated disc: nucleus E 2.0, nu 0.49; annulus E 2.5, nu 0.40 [SR25]. M.
    TissueMaterial(
        "nucleus_degenerated", 2.0, 0.49, source=f"E, nu: {_SR25}.",
        provenance=_FOUND, confidence="M", note="Moderately degenerated disc."),
    TissueMaterial(
        "annulus_ground_degenerated", 2.5, 0.40, source=f"E, nu: {_SR25}.",
        provenance=_FOUND, confidence="M", note="Moderately degenerated disc."),
    # Facet articular cartilage E 10-35, 24 typical (10 [JOSR21]; 24 [SR25]; 35 [JHE17]),
    # found in source, M; nu 0.3-0.4, from the literature, not re-checked, M.
    TissueMaterial(
        "facet_cartilage", 24.0, 0.35,
        source=f"E 24: {_SR25}; E 10: {_JOSR21}; E 35: {_JHE17}. nu 0.3-0.4: same models.",
        provenance="E: found in source. nu: from the literature, not re-checked; nominal 0.35 "
                   "derived here (midpoint of 0.3-0.4)",
        confidence="M", E_range_mpa=(10.0, 35.0), nu_range=(0.3, 0.4),
        note="Contact is compression-only and frictionless in the same models."),
    # Graft at day 0 = granulation tissue: E 0.2 MPa, nu 0.167 [LP02] (via [RevWIREs], found,
    # H); Geris variant E 1 MPa. Treating the graft as granulation tissue is derived here.
    TissueMaterial(
        "graft_day0", 0.2, 0.167,
        source=f"E 0.2, nu 0.167: {_LP02}, as tabulated in {_REVWIRES}. "
               f"E 1 (Geris et al. variant): {_REVWIRES}.",
        provenance="derived here: graft treated as granulation tissue (tissue values found in "
                   "source)",
        confidence="–", E_range_mpa=(0.2, 1.0),
        note="A parameter: vary E in 0.2-1 MPa with with_modulus(). Nominal is the [LP02] "
             "value. Poroelastic data (permeability, porosity) are not carried here."),
    # Solid fusion mass = mature bone: E 6 000 MPa, nu 0.3 [LP02]; derived here.
    TissueMaterial(
        "fusion_mass", 6_000.0, 0.3,
        source=f"E, nu (mature bone): {_LP02}, as tabulated in {_REVWIRES}.",
        provenance="derived here: fused graft treated as mature bone (values found in source)",
        confidence="–",
        note="A parameter; the reference gives no range for it - vary it in sensitivity "
             "studies."),
    # PEEK cage: taken from the implant library (E 3 600 MPa [SR25], found in source, H).
    TissueMaterial(
        "cage_peek", _PEEK.E_mpa, _PEEK.nu,
        source=f"spinesim.model.implant_materials 'peek': {_PEEK.source}",
        provenance=_FOUND, confidence="H",
        note=f"Not a tissue; listed for the segment model. Values are the implant library's "
             f"({_PEEK.note})"),
)}


def tissue_material(name: str) -> TissueMaterial:
    """The library tissue material called ``name`` (case-insensitive).

    Raises
    ------
    MaterialError
        If ``name`` is not in the library; the message lists the allowed names.
    """
    return lookup(TISSUE_MATERIALS, name, "tissue material")


# ------------------------------------------------------------------------- osteoporosis
# Cortical E x 0.67 (12 000 -> 8 040 MPa) and cancellous E x 0.34 (100 -> 34 MPa):
# [SR25] Table 1, found in source, H; same ratios as [Polikeit04], not re-checked.
OSTEOPOROSIS_FACTORS: dict[str, float] = {"cortical_shell": 0.67, "cancellous_core": 0.34}
_OSTEO_SOURCE = f"{_SR25}; same ratios as {_POLIKEIT04} (not re-checked)"


def osteoporotic(material: TissueMaterial | str) -> TissueMaterial:
    """The osteoporotic version of the cortical shell or cancellous core.

    Scales E by 0.67 (cortical) or 0.34 (cancellous), after Sci Rep (2025),
    doi 10.1038/s41598-025-03377-x, Table 1, with the ratios of Polikeit et al., J Biomech
    37:1061 (2004). ν is unchanged.

    Parameters
    ----------
    material : TissueMaterial or str
        ``cortical_shell`` or ``cancellous_core`` (or a material of that name).

    Returns
    -------
    TissueMaterial
        Named ``<name>_osteoporotic``, E in MPa.

    Raises
    ------
    MaterialError
        For any other material: no osteoporotic scaling is sourced for posterior elements,
        endplates or disc tissues.
    """
    mat = tissue_material(material) if isinstance(material, str) else material
    if mat.name not in OSTEOPOROSIS_FACTORS:
        raise MaterialError(
            f"no sourced osteoporotic scaling for {mat.name!r}; only "
            f"{', '.join(OSTEOPOROSIS_FACTORS)} have one (factors {OSTEOPOROSIS_FACTORS})")
    f = OSTEOPOROSIS_FACTORS[mat.name]
    rng = None if mat.E_range_mpa is None else (mat.E_range_mpa[0] * f, mat.E_range_mpa[1] * f)
    return dataclasses.replace(
        mat, name=f"{mat.name}_osteoporotic", E_mpa=mat.E_mpa * f, E_range_mpa=rng,
        source=f"{mat.source} Osteoporosis factor {f}: {_OSTEO_SOURCE}.",
        note=f"{mat.note} Osteoporotic: E x {f}.".strip())


# ------------------------------------------------------------- density-modulus relations
# Upper bound on an apparent density in g/cm³. NOT a sourced calibration range (the reference
# lists the lumbar trabecular density range as "Not sourced here"): an apparent density cannot
# exceed the density of the mineralised bone tissue itself (about 2 g/cm³), so a larger number
# is almost surely in another unit (mg/cm³ or kg/m³, 1000x larger). It is a unit guard only.
MAX_APPARENT_DENSITY_G_CM3 = 2.0

DENSITY_MODULUS_RELATIONS: dict[str, dict[str, str]] = {
    # E = 4 730 rho_app^1.56 (MPa, g/cm³), axial: [Morgan03] as quoted in [IJSS5781]; found in
    # source ([IJSS5781]), Morgan03 not re-checked; H.
    "morgan2003": {
        "formula": "E = 4730 * rho_app**1.56 (E in MPa, rho_app apparent density in g/cm3); "
                   "axial (cranio-caudal) modulus of vertebral trabecular bone",
        "source": f"{_MORGAN03}, as quoted in {_IJSS5781}",
        "provenance": "found in source ([IJSS5781]); [Morgan03] not re-checked",
        "confidence": "H"},
    # E = -34.7 + 3 230 rho_QCT (MPa, g/cm³): [Kopperdahl02], not re-checked, M.
    "kopperdahl2002": {
        "formula": "E = -34.7 + 3230 * rho_QCT (E in MPa, rho_QCT QCT density in g/cm3)",
        "source": _KOPPERDAHL02,
        "provenance": "from the literature, not re-checked", "confidence": "M"},
}


def cancellous_modulus_from_density(rho_app_g_cm3: ArrayLike,
                                    relation: str = "morgan2003") -> float | np.ndarray:
    """Cancellous-bone modulus from density, vectorised.

    ``morgan2003``: E = 4730 ρ^1.56, axial modulus of vertebral trabecular bone, ρ the apparent
    density (Morgan, Bayraktar, Keaveny, J Biomech 36:897 (2003), as quoted in the Int J Spine
    Surg material table ijssurgery.com item 5781; conf H). ``kopperdahl2002``: E = −34.7 +
    3230 ρ_QCT, ρ_QCT the QCT density (Kopperdahl et al. 2002; conf M).

    Parameters
    ----------
    rho_app_g_cm3 : float or array_like
        Density in g/cm³ (apparent density for ``morgan2003``, QCT density for
        ``kopperdahl2002``). Enforced: finite, > 0 (``kopperdahl2002``: > 34.7/3230 ≈ 0.0107,
        below which E ≤ 0) and ≤ ``MAX_APPARENT_DENSITY_G_CM3`` = 2.0 g/cm³, a unit guard (no
        apparent density exceeds that of bone tissue; larger inputs are probably mg/cm³). The
        relations' calibration range is not sourced in the reference, so values inside
        these bounds are not checked for extrapolation.
    relation : {"morgan2003", "kopperdahl2002"}
        Which relation to use (case-insensitive).

    Returns
    -------
    float or ndarray
        Modulus in MPa; a float for scalar input, else an array of the input's shape.

    Raises
    ------
    MaterialError
        Unknown relation, or densities out of the enforced range (the message lists them).

    Examples
    --------
    >>> round(cancellous_modulus_from_density(0.2), 1)
    384.1
    """
    key = str(relation).strip().lower()
    if key not in DENSITY_MODULUS_RELATIONS:
        raise MaterialError(f"unknown density-modulus relation {relation!r}; allowed: "
                            f"{', '.join(sorted(DENSITY_MODULUS_RELATIONS))}")
    rho = np.asarray(rho_app_g_cm3, dtype=np.float64)
    lo = 34.7 / 3230.0 if key == "kopperdahl2002" else 0.0
    bad = ~np.isfinite(rho) | (rho <= lo) | (rho > MAX_APPARENT_DENSITY_G_CM3)
    if bad.any():
        vals = rho[bad] if rho.ndim else rho.reshape(1)
        shown = ", ".join(f"{v:g}" for v in vals[:10])
        more = f" (and {bad.sum() - 10} more)" if bad.sum() > 10 else ""
        hint = (" Values above 2 look like mg/cm3 or kg/m3: divide by 1000."
                if np.any(vals > MAX_APPARENT_DENSITY_G_CM3) else "")
        raise MaterialError(
            f"rho_app_g_cm3 must be finite and in ({lo:.4g}, {MAX_APPARENT_DENSITY_G_CM3}] "
            f"g/cm3 for relation {key!r}; got {shown}{more}.{hint}")
    if key == "morgan2003":
        E = 4730.0 * rho ** 1.56
    else:
        E = -34.7 + 3230.0 * rho
    return float(E) if E.ndim == 0 else E


def transversely_isotropic_cancellous(*, E_axial: ArrayLike, E_transverse: ArrayLike,
                                      nu_transverse: ArrayLike, nu_axial: ArrayLike,
                                      G_axial: ArrayLike, axis: ArrayLike,
                                      n_cells: int) -> TransverselyIsotropic:
    """Transversely isotropic cancellous bone from user-supplied constants (no defaults).

    The reference does not source all five constants, so none is filled in here:

    * ``E_axial``: sourced — :func:`cancellous_modulus_from_density` with ``morgan2003``
      (4730 ρ^1.56 MPa, conf H).
    * ``E_transverse`` and ``G_axial``: only partly sourced — the Int J Spine Surg material
      table (ijssurgery.com item 5781, conf M) gives 1987 ρ^1.56 and 1357 ρ^1.56 MPa for "other
      directions" without saying which is a transverse and which a shear modulus. Check that
      paper before using them.
    * ``nu_transverse``, ``nu_axial``: not sourced at all.

    Parameters
    ----------
    E_axial, E_transverse : float or array_like
        Moduli along the axis and in the transverse plane, MPa.
    nu_transverse, nu_axial : float or array_like
        In-plane and axial Poisson's ratios (-).
    G_axial : float or array_like
        Shear modulus in planes containing the axis, MPa.
    axis : array_like, (3,) or (n_cells, 3)
        Symmetry (cranio-caudal) axis.
    n_cells : int
        Number of cells.

    Returns
    -------
    TransverselyIsotropic
        Validated per-cell law (see :class:`spinesim.fem.materials.TransverselyIsotropic`).
    """
    return TransverselyIsotropic.of(E_axial, E_transverse, nu_transverse, nu_axial, G_axial,
                                    axis, n_cells)


# ------------------------------------------------------------------------- bone quality
_QUALITIES = ("healthy", "osteoporotic")


def vertebral_bone(quality: str = "healthy", *, rho_app_g_cm3: float | None = None,
                   relation: str = "morgan2003",
                   t_score: float | None = None) -> dict[str, TissueMaterial]:
    """Cortical shell and cancellous core for a bone quality.

    Parameters
    ----------
    quality : {"healthy", "osteoporotic"}
        ``osteoporotic`` applies :func:`osteoporotic` to both (cortical × 0.67, cancellous
        × 0.34).
    rho_app_g_cm3 : float, optional
        Density in g/cm³: the cancellous modulus then comes from
        :func:`cancellous_modulus_from_density` (ν 0.2 of the default core), used isotropically
        (Morgan 2003 is the axial modulus, so this stiffens the transverse directions). Only
        with ``quality="healthy"``: the density already encodes the bone quality.
    relation : str
        Density–modulus relation, see :func:`cancellous_modulus_from_density`.
    t_score : float, optional
        Refused: the reference gives no sourced mapping from a DXA T-score to modulus or
        density. Passing one raises :class:`MaterialError`.

    Returns
    -------
    dict
        ``{"cortical_shell": TissueMaterial, "cancellous_core": TissueMaterial}``.
    """
    if t_score is not None:
        raise MaterialError(
            f"t_score={t_score!r}: no sourced mapping from a T-score to bone modulus or density "
            "exists in the spinesim reference, and none is invented here. Use "
            "quality='osteoporotic' (cortical E x 0.67, cancellous E x 0.34, Sci Rep 2025 / "
            "Polikeit 2004) or give an apparent density rho_app_g_cm3 instead.")
    q = str(quality).strip().lower()
    if q not in _QUALITIES:
        raise MaterialError(f"unknown bone quality {quality!r}; allowed: {', '.join(_QUALITIES)}")
    if rho_app_g_cm3 is not None and q != "healthy":
        raise MaterialError(
            f"rho_app_g_cm3={rho_app_g_cm3!r} with quality={quality!r}: give either a density "
            "or the osteoporosis switch, not both (the density already sets the cancellous "
            "modulus)")
    cortical, cancellous = tissue_material("cortical_shell"), tissue_material("cancellous_core")
    if q == "osteoporotic":
        return {"cortical_shell": osteoporotic(cortical),
                "cancellous_core": osteoporotic(cancellous)}
    if rho_app_g_cm3 is not None:
        if np.ndim(rho_app_g_cm3) != 0:
            raise MaterialError("rho_app_g_cm3 must be a scalar here; for per-cell densities use "
                                "cancellous_modulus_from_density with Isotropic.of")
        E = cancellous_modulus_from_density(rho_app_g_cm3, relation)  # validates relation
        key = str(relation).strip().lower()
        rel = DENSITY_MODULUS_RELATIONS[key]
        cancellous = TissueMaterial(
            f"cancellous_core_{key}", E, cancellous.nu,
            source=f"E: {rel['source']}. nu: {_MSD13}; {_JHE17}.",
            provenance=f"E: {rel['provenance']}; nu: {_FOUND}",
            confidence=rel["confidence"],
            note=f"{rel['formula']}, rho = {float(rho_app_g_cm3):g} g/cm3; used isotropically.")
    return {"cortical_shell": cortical, "cancellous_core": cancellous}
