"""Implant materials: linear-elastic constants and static strengths of rod, screw and cage alloys.

Units: moduli and strengths in MPa. Every value cites its source next to it. Values for which no
source was found are ``None`` (not invented): callers that need them must supply them.
Values from sources outside the spinesim reference collection (316L nu, PEEK strength, the
UHMWPE of the F1717 test blocks) say so next to them.

Nominal moduli where the source gives a range: the **midpoint** of the range. The ranges quoted
for CoCrMo and 316L are spreads of the elastic modulus of the wrought alloy, not specification
minimums, so no end of the range is conservative in general (a stiffer rod unloads the bone but
carries more stress itself); the midpoint is the central value and is off by at most half the
width (±6.7 % for CoCrMo, ±1.8 % for 316L). The whole range is kept in ``E_range_mpa`` for
sensitivity studies and Monte Carlo. Yield and ultimate strengths of the metals are
specification minimums (ASTM), i.e. lower bounds, not typical values.

>>> implant_material("cocr").E_mpa
225000.0
"""

from __future__ import annotations

from dataclasses import dataclass

from spinesim.errors import MaterialError
from spinesim.model.library import lookup

__all__ = ["ImplantMaterial", "IMPLANT_MATERIALS", "implant_material"]


@dataclass(frozen=True)
class ImplantMaterial:
    """An isotropic linear-elastic implant material with its static strengths.

    Attributes
    ----------
    name : str
        Library key (``ti6al4v``, ``cocr``, ``ss316l``, ``peek``).
    E_mpa : float
        Nominal Young's modulus, MPa.
    nu : float or None
        Poisson's ratio; None where no citable value is available.
    yield_mpa : float or None
        Yield strength (0.2 % offset), MPa; None where not sourced.
    uts_mpa : float or None
        Ultimate tensile strength, MPa; None where not sourced.
    source : str
        Citation of every value (paper or standard with its id), naming which value comes from
        which source.
    E_range_mpa : tuple of float or None
        (low, high) modulus range where the source gives one; ``E_mpa`` lies inside it.
    note : str
        How nominal values were chosen, which values are missing, what the strengths mean.
    """

    name: str
    E_mpa: float
    nu: float | None
    yield_mpa: float | None
    uts_mpa: float | None
    source: str
    E_range_mpa: tuple[float, float] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.E_mpa > 0:
            raise MaterialError(f"{self.name}: E_mpa must be > 0, got {self.E_mpa}")
        if self.nu is not None and not -1.0 < self.nu < 0.5:
            raise MaterialError(f"{self.name}: nu must be in (-1, 0.5), got {self.nu}")
        for key in ("yield_mpa", "uts_mpa"):
            v = getattr(self, key)
            if v is not None and not v > 0:
                raise MaterialError(f"{self.name}: {key} must be > 0 or None, got {v}")
        if self.yield_mpa is not None and self.uts_mpa is not None \
                and self.yield_mpa > self.uts_mpa:
            raise MaterialError(f"{self.name}: yield_mpa {self.yield_mpa} exceeds uts_mpa "
                                f"{self.uts_mpa}")
        if self.E_range_mpa is not None:
            lo, hi = (float(v) for v in self.E_range_mpa)
            if not 0 < lo <= self.E_mpa <= hi:
                raise MaterialError(f"{self.name}: E_mpa {self.E_mpa} must lie in E_range_mpa "
                                    f"({lo}, {hi})")
            object.__setattr__(self, "E_range_mpa", (lo, hi))
        if not self.source.strip():
            raise MaterialError(f"{self.name}: every implant material needs a source")


# Citations as given in the spinesim reference collection (implants_fatigue.md, *Sources*).
_SR25 = "[SR25] Sci Rep (2025), doi 10.1038/s41598-025-03377-x, Table 1"
_F136 = ("[F136] ASTM F136 (wrought Ti-6Al-4V ELI for surgical implants) — specification "
         "minimums")
_F1537 = "[F1537] ASTM F1537 (wrought CoCrMo for surgical implants)"
_F138 = "[F138] ASTM F138 (316L stainless steel for surgical implants)"
# Found with the literature search, not in the reference collection (see the notes):
_DOWLING13 = ("Dowling NE, Mechanical Behavior of Materials, 4th ed., Pearson (2013), Table 5.2 "
              "(elastic constants at ambient temperature)")
_ZONG19 = ("Zong X, Ruan J, Liu H, Sun W, Liu Y, Rapid injection moulding process of polyether "
           "ether ketone based on stereolithography, SN Applied Sciences 1:1388 (2019), "
           "doi 10.1007/s42452-019-1385-4 (abstract)")
_SOBIERAJ09 = ("Sobieraj MC, Kurtz SM, Rimnac CM, Notch sensitivity of PEEK in monotonic tension, "
               "Biomaterials 30(33):6485-6494 (2009), doi 10.1016/j.biomaterials.2009.08.020, "
               "PMC2760343")
_CALLISTER08 = ("Callister WD, Rethwisch DG, Fundamentals of Materials Science and Engineering: "
                "An Integrated Approach, 3rd ed., Wiley (2008), Appendix B Table B.2 (citing the "
                "ASM Handbooks)")
_SJOVOLD12 = ("Sjovold SG, Zhu Q, Bowden A, et al., Biomechanical evaluation of the Total Facet "
              "Arthroplasty System (TFAS): loading as compared to a rigid posterior "
              "instrumentation system, Eur Spine J 21(8):1660-1673 (2012), "
              "doi 10.1007/s00586-012-2253-8, PMC3535260, Table 2")

IMPLANT_MATERIALS: dict[str, ImplantMaterial] = {
    "ti6al4v": ImplantMaterial(
        name="ti6al4v",
        # E 110 000 MPa, nu 0.3: [SR25] Table 1 (pedicle screw and rod), found in source, conf H.
        E_mpa=110_000.0,
        nu=0.3,
        # minimum YS / UTS 795 / 860 MPa: [F136], from the literature, not re-checked, conf H.
        yield_mpa=795.0,
        uts_mpa=860.0,
        source=f"E, nu: {_SR25}. YS, UTS: {_F136}.",
        E_range_mpa=None,
        note="Ti-6Al-4V (ELI) rods and screws. YS/UTS are ASTM F136 specification minimums.",
    ),
    "cocr": ImplantMaterial(
        name="cocr",
        # E 210 000-240 000 MPa: [F1537], from the literature, not re-checked, conf H.
        # Nominal = midpoint 225 000 MPa (see the module docstring).
        E_mpa=225_000.0,
        # nu 0.30: Sjovold et al. 2012 (Eur Spine J, doi 10.1007/s00586-012-2253-8), Table 2,
        # CoCrMo (E 220 000 MPa, nu 0.30) -- an FE input value that paper takes from its own
        # reference [32]; not in the spinesim reference collection.
        nu=0.30,
        # warm-worked minimum YS / UTS >= 827 / >= 1 172 MPa: [F1537], not re-checked, conf M.
        yield_mpa=827.0,
        uts_mpa=1172.0,
        source=f"E range, YS, UTS: {_F1537}. nu: {_SJOVOLD12} (FE input value).",
        E_range_mpa=(210_000.0, 240_000.0),
        note="CoCrMo wrought, warm-worked. Nominal E is the midpoint of the F1537 range. "
             "YS/UTS are warm-worked specification minimums (annealed: >= 517 / >= 897 MPa, "
             "[F1537]). nu is not in the reference collection; it is the value used in the FE "
             "model of Sjovold et al. 2012 (Table 2), not a measurement there.",
    ),
    "ss316l": ImplantMaterial(
        name="ss316l",
        # E 193 000-200 000 MPa; YS >= 690 MPa; UTS >= 860 MPa: [F138], not re-checked, conf M.
        # Nominal E = midpoint 196 500 MPa (see the module docstring).
        E_mpa=196_500.0,
        # nu 0.283: Dowling 2013, Table 5.2, austenitic stainless steel (18 % Cr, Ni-bearing),
        # found in source. Not a 316L-specific measurement; see note.
        nu=0.283,
        yield_mpa=690.0,
        uts_mpa=860.0,
        source=f"E range, YS, UTS: {_F138}. nu: {_DOWLING13}, austenitic stainless steel row.",
        E_range_mpa=(193_000.0, 200_000.0),
        note="316L stainless steel, cold-worked. Nominal E is the midpoint of the F138 range. "
             "YS/UTS are specification minimums. The reference collection gives no Poisson "
             "ratio for 316L; nu is Dowling's value for an austenitic (18 % Cr, Ni) stainless "
             "steel, the family 316L belongs to. In rods and screws nu enters only the shear "
             "modulus (Timoshenko shear and torsion stiffness); tests/test_f1717.py measures "
             "its effect on the F1717 construct.",
    ),
    "peek": ImplantMaterial(
        name="peek",
        # E 3 600 MPa: [SR25] Table 1 (cage), found in source, conf H.
        E_mpa=3_600.0,
        # nu 0.3: the same [SR25] Table 1 lists the cage as "3600 MPa, v 0.3" (seen in the
        # published table). The reference file lists PEEK nu under "Not sourced here"; see note.
        nu=0.3,
        # tensile strength 96.4 +- 2.28 MPa of injection-moulded PEEK: Zong et al. 2019,
        # found in source (abstract). Yield = the same peak: smooth PEEK specimens yield by
        # necking at the stress maximum (Sobieraj et al. 2009), which is the yield stress of a
        # plastic by the ISO 527 definition (first stress maximum). Derived here, see note.
        yield_mpa=96.4,
        uts_mpa=96.4,
        source=f"E, nu: {_SR25} (cage). Tensile strength: {_ZONG19}. Yield at the tensile peak "
               f"(necking): {_SOBIERAJ09}.",
        E_range_mpa=None,
        note="PEEK interbody cage. nu 0.3 is the FE input value of [SR25] Table 1 (cage row); "
             "implants_fatigue.md still lists PEEK nu as not sourced, so treat it as a "
             "modelling value, not a measured one. Strength: injection-moulded PEEK, "
             "96.4 +- 2.28 MPa (Zong 2019); PEEK necks at its stress maximum, so yield and "
             "tensile strength coincide (ISO 527 yield = first maximum); a 0.2 % offset yield "
             "would be lower and is not sourced.",
    ),
    "uhmwpe": ImplantMaterial(
        name="uhmwpe",
        # E 0.69 GPa: Callister & Rethwisch 2008, Table B.2 (ultrahigh molecular weight
        # polyethylene), found in source.
        E_mpa=690.0,
        # nu 0.42: Dowling 2013, Table 5.2, polyethylene (HDPE), found in source; used for
        # UHMWPE, for which no Poisson ratio was found (see note).
        nu=0.42,
        yield_mpa=None,
        uts_mpa=None,
        source=f"E: {_CALLISTER08}, UHMWPE row. nu: {_DOWLING13}, polyethylene (HDPE) row.",
        E_range_mpa=None,
        note="UHMWPE of the ASTM F1717 test blocks (not an implant here). nu is the "
             "high-density polyethylene value, a stand-in: no UHMWPE-specific Poisson ratio "
             "was found. tests/test_f1717.py measures how much the construct result depends "
             "on it. Strengths are not needed for the blocks and are not given.",
    ),
}


def implant_material(name: str) -> ImplantMaterial:
    """The library implant material called ``name`` (case-insensitive).

    Raises
    ------
    MaterialError
        If ``name`` is not in the library; the message lists the allowed names.
    """
    return lookup(IMPLANT_MATERIALS, name, "implant material")
