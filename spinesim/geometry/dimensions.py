"""Literature dimensions of the lumbar vertebrae L1-L5 and of S1, with their sources.

Every number in the table below is stored with its source and how it was obtained
(provenance), following the conventions of the project's reference data:

* ``found in source`` - the number was seen in the cited paper (its abstract or a table) or in a
  data file published with it.
* ``derived here: <formula>`` - computed here from sourced numbers (the formula is given).
* ``modelling choice, not a literature value`` - no level-specific source was found; the default
  is a labelled modelling choice (usually the value of a neighbouring level or a pooled mean) and
  must be overridden when better data are at hand.

Units: lengths in mm, angles in degrees. Axes follow spinesim (x to the patient's left,
y anterior, z cranial). "Disc" and "facet" entries of a level describe the joint *below* that
vertebra (``L4`` carries the L4-L5 disc and facet joints); S1 has none.

Known limitations (read before relying on a number): apart from L5, the vertebral body
width/depth/height, canal size and spinous process length are a pooled L2-L5 mean from one CT
cohort [CLOUTHIER23], not level-specific values; pedicle widths, heights and angles between the
sourced end levels are linear interpolations; the segmental (Cobb) lordosis of [BABOL03] is used
as the disc wedge angle because the model's vertebral bodies are not wedged by default
(``body_wedge_deg`` = 0; an override wedges them).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from spinesim.errors import MeshError

#: Vertebrae described by the table, cranial to caudal.
LEVELS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1")

FOUND = "found in source"
MODEL = "modelling choice, not a literature value"


def _derived(formula: str) -> str:
    return f"derived here: {formula}"


#: Full citations of the short keys used in the table.
REFERENCES: dict[str, str] = {
    "CLOUTHIER23": (
        "Clouthier AL, Wenghofer J, Wai EK, Graham RB. Morphable models of the lumbar spine to "
        "vary geometry based on pathology, demographics, and anatomical measurements. J Biomech "
        "146:111421 (2023), doi 10.1016/j.jbiomech.2022.111421. Values: cohort mean (87 CT "
        "patients) of the per-patient mean over L2-L5, read from the data files published with "
        "the paper (github.com/aclouthier/morphable-lumbar-model, SSM/*_y.csv = "
        "[mean, min, max])."),
    "COOK21": (
        "Cook WH, Baker JF. Comparative analysis of lumbar spine vertebral morphology between "
        "Maori and New Zealand Europeans: a computed tomography study. Int J Spine Surg "
        "15(6):1072-1081 (2021). Table 6 (L5, all 196 patients)."),
    "BHAT25": (
        "Bhat N, Rao L, Shetty A, Das S, Naik NBK, Nayak V, Prabhath S, Alapatt K, Sumalatha S. "
        "Morphometric analysis of the fifth lumbar vertebra (L5): anatomical dimensions and "
        "clinical implications in South Indian population. Transl Res Anat (2025), "
        "doi 10.1016/j.tria.2025.100392 (50 dry L5 vertebrae)."),
    "WANG12": (
        "Wang Y, Battie MC, Videman T. A morphological study of lumbar vertebral endplates: "
        "radiographic, visual and digital measurements. Eur Spine J 21(11):2316-2323 (2012), "
        "doi 10.1007/s00586-012-2415-8, PMID 22743647, PMC3481085."),
    "SUN_EP": (
        "Sun W, Lu S, Hai Y, Lei Z, Kang N, Meng X, Wang Y. CT measurement of sagittal endplate "
        "morphology of the adult lower lumbar spine (80 volunteers, L3-S1); journal not captured."),
    "KRAKOWIAK19": (
        "Morphometric analysis of the lumbar vertebrae concerning the optimal screw selection for "
        "transpedicular stabilization. Adv Exp Med Biol (Advances in Medicine and Medical "
        "Research) (2019), doi 10.1007/5584_2018_324; CT of 100 patients. Authors as catalogued "
        "(order not verified): Demkow U, Luczkiewicz P, Dzierzanowski J, Szarmach A, Radkowski M, "
        "Szmuda T, Szurowska E, Baczkowska-Waliszewska Z, Krakowiak M, Skotarczyk M, Sloniewski P, "
        "Winklewski PJ, Czapiewski P."),
    "MISIANI": (
        "Misiani VO, Muteti EN, ElBadawi MGY. Morphometric analysis of lumbar pedicles among "
        "adult Kenyans using computer tomography scans and dry bone specimens. East African "
        "Orthopaedic Journal (eISSN 1994-1072), ajol.info/index.php/eaoj/article/view/216204; "
        "year not captured. CT of 100 adults: mean pedicle chord length L1-L5."),
    "WANGB24": (
        "Wang B, Sha ZJ, Wang L, Wang ZR, Li XB, Deng Q, Huang AB. CT-based 3D morphometry of the "
        "lumbar laminae for endoscopic laminar fenestration. World Neurosurg (2024, online "
        "4 Dec 2024); 62 patients, 310 vertebrae L1-L5."),
    "LIBING03": (
        "Li B, Jiang B, Fu Z, Zhang D, Du X, Wang T. A morphological study of lumbar transverse "
        "process (CT, 100 vertebrae). (2003), doi 10.3969/j.issn.2095-252x.2003.02.008."),
    "AGICHANI": (
        "Agichani SR, Joshi SD, Joshi SS. Morphometric study of lumbar intervertebral discs in a "
        "tertiary care centre in central India. J Evid Based Med Healthc (JEBMH); year not "
        "captured. Cadaver (n = 10) anterior and posterior disc heights."),
    "NEINDIA": (
        "Disc wedge angle and disc heights of L4/L5 and L5/S1 in a north-east Indian population "
        "(80 segments, 20 males, 20 females); abstract seen on scite.ai ('Age-related changes in "
        "height ...'); authors and journal not captured - treat as low confidence."),
    "BABOL03": (
        "Evaluation of total and segmental lumbar lordosis using radiographic interpretation. "
        "J Babol Univ Med Sci (2003), DOAJ d8b75b63ff0f4086a67022831fb176fb; standing lateral "
        "radiographs of 100 volunteers, Cobb method; authors not captured."),
    "MEDICINE14": (
        "In vivo morphological features of human lumbar discs. Medicine (Baltimore) 93(28) "
        "(2014); MRI of 41 young Chinese adults; authors not captured."),
    "JENTZSCH13": (
        "Jentzsch T, Geiger J, Zimmermann SM, Slankamenac K, Nguyen-Kim TDL, Werner CML. Lumbar "
        "facet joint arthritis is associated with more coronal orientation of the facet joints "
        "at the upper lumbar spine. Radiol Res Pract 2013:693971, doi 10.1155/2013/693971 "
        "(CT, 620 individuals)."),
    "MASHARAWI04": (
        "Masharawi Y, Rothschild B, Dar G, Peleg S, Robinson D, Been E, Hershkovitz I. Facet "
        "orientation in the thoracolumbar spine: three-dimensional anatomic and biomechanical "
        "analysis. Spine 29(16):1755-1763 (2004) (volume/pages from the literature, not "
        "re-checked); 240 skeletons."),
}


@dataclass(frozen=True)
class ValueSource:
    """Where one table value comes from.

    Attributes
    ----------
    value : float
        The value (mm or degrees).
    reference : str
        Short key into :data:`REFERENCES` (several keys joined by ``+``; empty for pure
        modelling choices).
    provenance : str
        ``found in source``, ``derived here: <formula>`` or ``modelling choice, not a literature
        value``.
    note : str
        What exactly was measured and how it is used here.
    """

    value: float
    reference: str
    provenance: str
    note: str = ""


@dataclass(frozen=True)
class LevelDimensions:
    """Dimensions of one vertebra (and of the disc and facet joint below it), mm and degrees.

    Attributes
    ----------
    level : str
        ``L1`` ... ``L5`` or ``S1``.
    endplate_width_mm, endplate_depth_mm : float
        Lateral width and antero-posterior depth of the vertebral body endplate (the body's
        elliptical cross-section).
    body_height_mm : float
        Mean of the anterior and posterior vertebral body heights.
    superior_concavity_mm, inferior_concavity_mm : float
        Depth of the concavity of the superior (cranial) and inferior (caudal) endplate.
    canal_width_mm, canal_depth_mm : float
        Width and depth of the vertebral canal; the depth places the lamina at the midline.
    pedicle_width_mm, pedicle_height_mm : float
        Transverse (isthmus) width and sagittal height of the pedicle.
    pedicle_transverse_angle_deg : float
        Angle between the pedicle axis and the mid-sagittal plane in the axial plane.
    pedicle_path_length_mm : float
        Screw path through the posterior elements: from the entry point on the posterior
        cortex along the pedicle axis to the posterior wall of the vertebral body. It places
        the articular pillars and transverse processes (the laminae slope forward from the
        midline to them). Default: derived from the measured pedicle chord length (entry to
        the anterior cortex) for the cited body, so that a larger or smaller body keeps the
        posterior elements' size.
    lamina_thickness_mm : float
        Antero-posterior thickness of the lamina.
    spinous_process_length_mm : float
        Distance from the posterior wall of the vertebral body to the spinous process tip
        (interpretation of [CLOUTHIER23]'s "spinous process length"; check before relying on it).
    transverse_process_length_mm : float
        Length of each transverse process from its root at the pedicle/lamina junction.
    disc_height_mm : float or None
        Mean of the anterior and posterior heights of the disc below (None for S1).
    disc_lordosis_deg : float or None
        Wedge (lordosis) angle between the endplates bounding the disc below, positive when the
        disc is taller anteriorly.
    nucleus_length_fraction : float or None
        Antero-posterior length of the nucleus over that of the disc below; the nucleus is
        modelled as a scaled ellipse, so its area fraction is this value squared.
    nucleus_posterior_offset_fraction : float or None
        Posterior shift of the nucleus centre as a fraction of the disc depth.
    facet_angle_deg : float or None
        Orientation of the facet joints below, angle between the joint plane and the
        mid-sagittal plane in the axial plane (0 sagittal, 90 coronal).
    body_wedge_deg : float
        Sagittal wedge angle of the vertebral body, the angle between its endplates, positive
        when the body is taller anteriorly; ``body_height_mm`` is its height at the centre.
        The upper vertebra of a disc turns by ``disc_lordosis_deg`` plus half of each adjacent
        body's wedge (the segmental lordosis).
    """

    level: str
    endplate_width_mm: float
    endplate_depth_mm: float
    body_height_mm: float
    superior_concavity_mm: float
    inferior_concavity_mm: float
    canal_width_mm: float
    canal_depth_mm: float
    pedicle_width_mm: float
    pedicle_height_mm: float
    pedicle_transverse_angle_deg: float
    pedicle_path_length_mm: float
    lamina_thickness_mm: float
    spinous_process_length_mm: float
    transverse_process_length_mm: float
    disc_height_mm: float | None = None
    disc_lordosis_deg: float | None = None
    nucleus_length_fraction: float | None = None
    nucleus_posterior_offset_fraction: float | None = None
    facet_angle_deg: float | None = None
    body_wedge_deg: float = 0.0

    @property
    def has_disc_below(self) -> bool:
        """True when the table describes a disc (and facet joints) below this vertebra."""
        return self.disc_height_mm is not None


#: Plausibility bounds (inclusive) used to validate values and overrides. They are sanity
#: limits chosen here (modelling choice), not literature ranges.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "endplate_width_mm": (20.0, 80.0, "mm"),
    "endplate_depth_mm": (15.0, 60.0, "mm"),
    "body_height_mm": (10.0, 50.0, "mm"),
    "superior_concavity_mm": (0.0, 5.0, "mm"),
    "inferior_concavity_mm": (0.0, 5.0, "mm"),
    "canal_width_mm": (10.0, 40.0, "mm"),
    "canal_depth_mm": (8.0, 30.0, "mm"),
    "pedicle_width_mm": (3.0, 25.0, "mm"),
    "pedicle_height_mm": (5.0, 30.0, "mm"),
    "pedicle_transverse_angle_deg": (0.0, 45.0, "deg"),
    "pedicle_path_length_mm": (5.0, 60.0, "mm"),
    "lamina_thickness_mm": (2.0, 15.0, "mm"),
    "spinous_process_length_mm": (20.0, 90.0, "mm"),
    "transverse_process_length_mm": (3.0, 40.0, "mm"),
    "disc_height_mm": (2.0, 25.0, "mm"),
    "disc_lordosis_deg": (-10.0, 30.0, "deg"),
    "nucleus_length_fraction": (0.55, 0.85, "-"),
    "nucleus_posterior_offset_fraction": (-0.1, 0.1, "-"),
    "facet_angle_deg": (0.0, 90.0, "deg"),
    "body_wedge_deg": (-15.0, 25.0, "deg"),
}
_DISC_KEYS = ("disc_height_mm", "disc_lordosis_deg", "nucleus_length_fraction",
              "nucleus_posterior_offset_fraction", "facet_angle_deg")

# ------------------------------------------------------------------------------- the table
_C23 = "mean over L2-L5 of 87 CT patients, not level-specific"
_C23_L1 = "modelling choice: the L2-L5 mean of [CLOUTHIER23] applied to L1"
_S1 = "no S1 value found: L5 value reused"
_PED_W = "linear interpolation between L1 (6.1 mm) and L5 (13.2 mm) of [KRAKOWIAK19]"
_PED_H = "linear interpolation between L1 (15.9 mm) and L4 (13.3 mm) of [KRAKOWIAK19]"
_PED_A = "linear interpolation between L1 (20 deg) and L5 (32 deg) of [KRAKOWIAK19]"


def _interp(v0: float, v1: float, i: int, n: int) -> float:
    return round(v0 + (v1 - v0) * i / n, 4)


def _build_table() -> dict[str, dict[str, ValueSource]]:
    V = ValueSource
    t: dict[str, dict[str, ValueSource]] = {lv: {} for lv in LEVELS}
    for lv in ("L1", "L2", "L3", "L4"):
        l1 = lv == "L1"
        prov = MODEL if l1 else FOUND
        t[lv]["endplate_width_mm"] = V(46.676, "CLOUTHIER23", prov,
                                       _C23_L1 if l1 else f"vertebral body width, {_C23}")
        t[lv]["endplate_depth_mm"] = V(35.043, "CLOUTHIER23", prov,
                                       _C23_L1 if l1 else f"vertebral body depth, {_C23}")
        t[lv]["body_height_mm"] = V(27.75, "CLOUTHIER23", prov,
                                    _C23_L1 if l1 else f"vertebral body height, {_C23}")
        t[lv]["canal_width_mm"] = V(26.687, "CLOUTHIER23", prov,
                                    _C23_L1 if l1 else f"spinal canal width, {_C23}")
        t[lv]["canal_depth_mm"] = V(16.678, "CLOUTHIER23", prov,
                                    _C23_L1 if l1 else f"spinal canal depth, {_C23}")
        t[lv]["spinous_process_length_mm"] = V(
            51.599, "CLOUTHIER23", prov,
            _C23_L1 if l1 else f"spinous process length, {_C23}; measured-from point assumed "
            "to be the posterior vertebral body wall")
    t["L5"]["endplate_width_mm"] = V(47.4, "BHAT25", FOUND,
                                     "transverse diameter of the superior surface, 47.4 +- 13.9 mm")
    t["L5"]["endplate_depth_mm"] = V(35.7, "COOK21", FOUND,
                                     "VB superior length (VBSL), 35.7 +- 3.5")
    t["L5"]["body_height_mm"] = V(28.3, "COOK21", _derived("(VBAH 30.3 + VBPH 26.3) / 2"),
                                  "anterior 30.3 +- 1.9, posterior 26.3 +- 1.9 mm")
    t["L5"]["canal_width_mm"] = V(28.2, "COOK21", FOUND, "vertebral canal width (VCW) 28.2 +- 3.1")
    t["L5"]["canal_depth_mm"] = V(15.6, "COOK21", FOUND, "vertebral canal length (VCL) 15.6 +- 2.1")
    t["L5"]["spinous_process_length_mm"] = V(
        51.599, "CLOUTHIER23", FOUND, f"spinous process length, {_C23}")
    # Endplate concavity: cranial endplate of a disc = inferior endplate of the upper vertebra.
    for lv in LEVELS[:-1]:
        t[lv]["superior_concavity_mm"] = V(0.7, "WANG12", FOUND,
                                           "mean depth of caudal (relative to the disc) endplates, "
                                           "pooled over all levels")
        t[lv]["inferior_concavity_mm"] = V(1.5, "WANG12", FOUND,
                                           "mean depth of cranial (relative to the disc) "
                                           "endplates, pooled over all levels")
    # Pedicles [KRAKOWIAK19]: widths L1 -> L5, heights L1 -> L4, transverse angles L1 -> L5.
    for i, lv in enumerate(LEVELS[:5]):
        ends = i in (0, 4)
        t[lv]["pedicle_width_mm"] = V(_interp(6.1, 13.2, i, 4), "KRAKOWIAK19",
                                      FOUND if ends else _derived(_PED_W),
                                      "pedicle width (increases L1 -> L5)")
        t[lv]["pedicle_transverse_angle_deg"] = V(
            _interp(20.0, 32.0, i, 4), "KRAKOWIAK19", FOUND if ends else _derived(_PED_A),
            "transverse angle of the screw trajectory (20 deg at L1 to 32 deg at L5)")
        t[lv]["lamina_thickness_mm"] = V(5.96, "WANGB24", FOUND,
                                         "central laminar thickness, pooled L1-L5")
    for i, lv in enumerate(LEVELS[:4]):
        t[lv]["pedicle_height_mm"] = V(_interp(15.9, 13.3, i, 3), "KRAKOWIAK19",
                                       FOUND if i in (0, 3) else _derived(_PED_H),
                                       "pedicle height (decreases L1 -> L4)")
    t["L5"]["pedicle_height_mm"] = V(12.9, "COOK21", FOUND, "pedicle height (PH) 12.9 +- 1.9")
    for lv, tp in zip(LEVELS[:5], (10.0, 15.0, 19.0, 15.0, 15.0)):
        t[lv]["transverse_process_length_mm"] = V(tp, "LIBING03", FOUND,
                                                  "reported as approximate ('about') values")
    # Discs below each lumbar vertebra.
    cad = {"L1": (7.922, 4.624), "L2": (9.139, 4.925), "L3": (10.611, 5.872),
           "L4": (12.569, 6.546)}
    for lv, (ant, post) in cad.items():
        t[lv]["disc_height_mm"] = V(round((ant + post) / 2, 4), "AGICHANI",
                                    _derived(f"(anterior {ant} + posterior {post}) / 2, cadaver"))
    t["L5"]["disc_height_mm"] = V(10.97, "NEINDIA",
                                  _derived("(anterior 15.15 + posterior 6.79) / 2"),
                                  "males, L5/S1; the cadaver posterior L5/S1 height of [AGICHANI] "
                                  "was not captured")
    for lv, lordosis in zip(LEVELS[:5], (4.5, 8.5, 10.0, 14.0, 21.0)):
        t[lv]["disc_lordosis_deg"] = V(lordosis, "BABOL03", FOUND,
                                       "segmental Cobb lordosis, used as the disc wedge angle "
                                       "because the model's vertebral bodies are not wedged")
    for lv in ("L1", "L2", "L3"):
        t[lv]["nucleus_length_fraction"] = V(0.64, "MEDICINE14", MODEL, "L4/5 value reused")
        t[lv]["nucleus_posterior_offset_fraction"] = V(0.0245, "MEDICINE14", MODEL,
                                                        "L4/5 value reused")
    t["L4"]["nucleus_length_fraction"] = V(0.64, "MEDICINE14", FOUND,
                                           "nucleus 64.0 % of L4/5 disc length")
    t["L5"]["nucleus_length_fraction"] = V(0.724, "MEDICINE14", FOUND,
                                           "nucleus 72.4 % of L5/S1 disc length")
    t["L4"]["nucleus_posterior_offset_fraction"] = V(
        0.0245, "MEDICINE14",
        _derived("(anterior AF 20.5 % - posterior AF 15.6 %) / 2 of the L4/5 length"))
    t["L5"]["nucleus_posterior_offset_fraction"] = V(
        0.0025, "MEDICINE14",
        _derived("(anterior AF 14.1 % - posterior AF 13.6 %) / 2 of the L5/S1 length"))
    t["L1"]["facet_angle_deg"] = V(29.88, "MASHARAWI04",
                                   _derived("midpoint of the T12-L2 range 25.89-33.87 deg"),
                                   "no L1/L2 value found; range of the T12-L2 facets")
    for lv, ang in zip(("L2", "L3", "L4", "L5"), (30.4, 38.7, 47.0, 47.3)):
        t[lv]["facet_angle_deg"] = V(ang, "JENTZSCH13", FOUND,
                                     "mean facet joint orientation (from the sagittal plane)")
    # Screw path through the arch: the CT chord [MISIANI] less the body's share of it.
    from spinesim.geometry._posterior import path_for_chord

    for lv, chord in zip(LEVELS[:5], (48.6, 49.9, 50.1, 49.8, 50.1)):
        dims = LevelDimensions(level=lv, pedicle_path_length_mm=0.0,
                               **{k: v.value for k, v in t[lv].items()})
        t[lv]["pedicle_path_length_mm"] = V(
            path_for_chord(dims, chord), "MISIANI",
            _derived(f"mean pedicle chord length on CT, {chord} mm (entry to anterior cortex; "
                     "dry bone 47.0-48.9 mm), less the chord of the cited body section along "
                     "the trajectory (spinesim.geometry._posterior.path_for_chord)"))
    # S1: only the upper part is modelled; every value is the L5 value (modelling choice) except
    # the flat superior endplate ("most lower lumbar endplates are concave besides the superior
    # endplate of S1" [SUN_EP]).
    for key, vs in t["L5"].items():
        if key not in _DISC_KEYS and key not in t["S1"]:
            t["S1"][key] = V(vs.value, vs.reference, MODEL, _S1)
    for lv in LEVELS:
        t[lv]["body_wedge_deg"] = V(
            0.0, "", MODEL, "unwedged bodies: the segmental lordosis sits in the disc wedge. "
            "A sourced L5 alternative: anterior 30.3 and posterior 26.3 mm body heights over a "
            "35.7 mm depth [COOK21], 2 atan(4.0 / (2 x 35.7)) = 6.4 deg, not applied so that "
            "the disc keeps the segmental lordosis of [BABOL03]")
    t["S1"]["superior_concavity_mm"] = V(0.0, "SUN_EP", MODEL,
                                         "flat: the S1 superior endplate is mostly not concave")
    t["S1"]["inferior_concavity_mm"] = V(0.0, "", MODEL, "flat cut face of the modelled S1 block")
    return t


_TABLE = _build_table()


def dimension_sources(level: str) -> dict[str, ValueSource]:
    """The source and provenance of every default dimension of ``level`` (``L1`` ... ``S1``)."""
    return dict(_TABLE[_check_level(level)])


def _check_level(level: str) -> str:
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise MeshError(f"unknown vertebral level {level!r}; allowed: {', '.join(LEVELS)}")
    return name


def _validate(dims: LevelDimensions) -> None:
    for f in fields(dims):
        if f.name == "level":
            continue
        v = getattr(dims, f.name)
        if v is None:
            if dims.level != "S1" and f.name in _DISC_KEYS:
                raise MeshError(f"{dims.level}: {f.name} is required")
            continue
        lo, hi, unit = BOUNDS[f.name]
        if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
            raise MeshError(f"{dims.level}: {f.name}={v!r} is outside the allowed range "
                            f"[{lo}, {hi}] {unit}")
    if dims.superior_concavity_mm + dims.inferior_concavity_mm >= 0.5 * dims.body_height_mm:
        raise MeshError(f"{dims.level}: superior_concavity_mm + inferior_concavity_mm must be "
                        f"below half of body_height_mm ({dims.body_height_mm} mm)")


def level_dimensions(level: str, **overrides: float) -> LevelDimensions:
    """The tabulated dimensions of one vertebra, with optional overrides.

    Parameters
    ----------
    level : str
        ``L1`` ... ``L5`` or ``S1`` (case-insensitive).
    **overrides : float
        Any :class:`LevelDimensions` field (mm or degrees), e.g. ``endplate_width_mm=50``.

    Returns
    -------
    LevelDimensions

    Raises
    ------
    MeshError
        For an unknown level, an unknown key, a disc/facet key on S1 (which has no disc below),
        or a value outside :data:`BOUNDS` (the message names the key, value, range and unit).

    Examples
    --------
    >>> level_dimensions("L4").disc_lordosis_deg
    14.0
    >>> level_dimensions("L4", endplate_width_mm=50.0).endplate_width_mm
    50.0
    """
    name = _check_level(level)
    allowed = [f.name for f in fields(LevelDimensions) if f.name != "level"]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise MeshError(f"unknown dimension key(s) {unknown} for {name}; {hint}allowed keys: "
                        f"{', '.join(allowed)}")
    if name == "S1":
        bad = sorted(k for k in overrides if k in _DISC_KEYS)
        if bad:
            raise MeshError("S1 has no disc or facet joint below in this model; cannot set "
                            f"{', '.join(bad)}")
    values = {k: v.value for k, v in _TABLE[name].items()}
    dims = LevelDimensions(level=name, **values)
    if overrides:
        clean = {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                 for k, v in overrides.items()}
        dims = replace(dims, **clean)
    _validate(dims)
    return dims


def dimension_table(overrides: Mapping[str, Mapping[str, float]] | None = None
                    ) -> dict[str, LevelDimensions]:
    """:func:`level_dimensions` of every level; ``overrides`` maps a level to its overrides
    (:class:`LevelDimensions` fields, mm or degrees)."""
    overrides = {_check_level(k): v for k, v in (overrides or {}).items()}
    return {lv: level_dimensions(lv, **overrides.get(lv, {})) for lv in LEVELS}
