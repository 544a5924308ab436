"""Implant materials: linear-elastic constants and static strengths of rod, screw and cage alloys.

Units: moduli and strengths in MPa. Every value cites its source next to it. Values the
literature collected for spinesim does not give are ``None`` (not invented): callers that need
them must supply them explicitly.

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
        # nu: not given in the reference collection and no citable source found -> None.
        nu=None,
        yield_mpa=690.0,
        uts_mpa=860.0,
        source=f"E range, YS, UTS: {_F138}.",
        E_range_mpa=(193_000.0, 200_000.0),
        note="316L stainless steel, cold-worked. Nominal E is the midpoint of the F138 range. "
             "YS/UTS are specification minimums. Poisson's ratio is not sourced (None): "
             "supply it explicitly with its citation.",
    ),
    "peek": ImplantMaterial(
        name="peek",
        # E 3 600 MPa: [SR25] Table 1 (cage), found in source, conf H.
        E_mpa=3_600.0,
        # nu 0.3: the same [SR25] Table 1 lists the cage as "3600 MPa, v 0.3" (seen in the
        # published table). The reference file lists PEEK nu under "Not sourced here"; see note.
        nu=0.3,
        # yield and tensile strength of PEEK: not in the reference collection -> None.
        yield_mpa=None,
        uts_mpa=None,
        source=f"E, nu: {_SR25} (cage).",
        E_range_mpa=None,
        note="PEEK interbody cage. nu 0.3 is the FE input value of [SR25] Table 1 (cage row); "
             "implants_fatigue.md still lists PEEK nu as not sourced, so treat it as a "
             "modelling value, not a measured one. Yield and tensile strength are "
             "not sourced (None).",
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
