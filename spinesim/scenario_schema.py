"""The scenario schema: every key a scenario file may hold, as data, and the rules on them.

Three parts: the table :data:`FIELDS`; :func:`check`, which validates one value against its
field; and the rules between fields (:func:`why_not` says when a field does not apply to the
construct, :func:`contradictions` finds options that contradict each other).
:mod:`spinesim.scenario` reads, resolves and writes scenarios with them.

Each :class:`Field` names its dotted key, kind, unit, default, allowed range or choices, a
one-line description, and where the default comes from. Defaults taken from the literature cite
the paper (as the spinesim reference collection does) with the reference's confidence grade
(H use as is, M check the primary paper, L order of magnitude, "–" ungraded). Where the
reference gives a range, the field carries it as ``uncertainty`` with a ``distribution``: these
are the inputs a Monte Carlo run samples (:func:`uncertain_fields`). Defaults that are *not*
sourced say so in ``source``: it starts with ``"modelling default"`` (a choice made here, to be
varied in sensitivity studies) or ``"project default"`` (the default run of the spinesim issues).

Range bounds that are not literature values are plausibility guards (they catch unit mistakes
such as metres for millimetres); they say so in ``bounds_note``.

Distributions of ``uncertainty = (a, b)``:

* ``uniform``: uniform on [a, b];
* ``lognormal_ci95``: log-normal whose 95 % interval is [a, b] (a pooled odds ratio with its
  confidence interval: median sqrt(a b), sigma of ln = ln(b / a) / (2 x 1.96)).

Internal units are mm, N, MPa; user-facing moments are N·m (``_nm``), micromotion µm (``_um``),
fluid velocity µm/s (``_um_s``): the model converts them once, at the input edge.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIVITIES", "ACTIVITY_ITEM_KEYS", "ActivityEntry", "CONSTRUCTS", "CONSTRUCT_PARTS",
    "DIRECTIONS", "DependsOn", "DimensionOverrides", "FIELDS", "Field", "FieldValueError",
    "LEVEL_NAMES", "PARTS", "Requires", "SECTIONS", "SECTION_DOCS", "check", "check_activities",
    "check_dimensions", "contradictions", "describe", "dimension_field", "field",
    "lognormal_ci95", "screw_count", "uncertain_fields", "vertebrae", "why_not",
]

# ------------------------------------------------------------------------------ vocabulary
#: Vertebrae a model may span, cranial to caudal.
LEVEL_NAMES = ("L1", "L2", "L3", "L4", "L5", "S1")
#: Constructs and the parts each one has.
CONSTRUCT_PARTS: dict[str, frozenset[str]] = {
    "intact": frozenset(),
    "bilateral": frozenset({"screws", "rods"}),
    "bilateral-cage": frozenset({"screws", "rods", "cage", "graft"}),
    "unilateral-cage": frozenset({"screws", "rods", "cage", "graft"}),
    "cage-only": frozenset({"cage", "graft"}),
    "posterolateral": frozenset({"screws", "rods", "graft"}),
}
CONSTRUCTS = tuple(CONSTRUCT_PARTS)
#: What each part is, for error messages.
PARTS = {"screws": "pedicle screws", "rods": "rods", "cage": "cage", "graft": "graft"}
#: Load-case directions (spinesim.model.loadcases.DIRECTIONS).
DIRECTIONS = ("flexion", "extension", "lateral_bending_left", "lateral_bending_right",
              "axial_rotation_left", "axial_rotation_right")
#: The activities built into the schema (``activity.<name>.*``), in report order; further
#: ones are listed in ``activity.custom`` (:class:`ActivityEntry`).
ACTIVITIES = ("walking", "bending", "full_flexion", "lifting")
#: Keys of one ``activity.custom`` entry, in the order they are written.
ACTIVITY_ITEM_KEYS = ("name", "per_day", "compression_n", "moment_nm", "direction")
_ACTIVITY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# ------------------------------------------------------------------------------ sources
# Citations as in the spinesim reference collection (Sources lists of its files).
_DREISCHARF14 = ("Dreischarf et al., J Biomech 47:1757 (2014), "
                 "doi 10.1016/j.jbiomech.2014.04.002")
_HEUER07 = "Heuer et al., J Biomech 40:271 (2007)"
_PIMENTA12 = "Pimenta et al., Sci World J 2012:381814, PMC3504399"
_YAMAMOTO89 = "Yamamoto et al., Spine 14:1256 (1989), PubMed 2603060"
_WILKE98 = "Wilke et al., Eur Spine J 7:148 (1998)"
_REMUS21 = ("Remus, Lipphaus, Neumann, Bender, PLoS ONE 16(4):e0250456 (2021), "
            "doi 10.1371/journal.pone.0250456")
_JHE17B = "J Healthc Eng 2017:9365068 (FE study of ELIF)"
_ROHLMANN14A = "Rohlmann et al., Eur Spine J 23:2375 (2014)"
_ROHLMANN14B = "Rohlmann et al., PLoS ONE 9:e98510 (2014)"
_ROHLMANN13 = "Rohlmann et al., J Biomech 46:1972 (2013)"
_DREISCHARF15 = "Dreischarf et al., J Biomech (2015), doi 10.1016/j.jbiomech.2015.01.007"
_STIENEN20 = "Stienen et al., Sci Rep 10:4939 (2020), PMC7080733"
_APMR21 = "Arch Phys Med Rehabil (2021), doi 10.1016/j.apmr.2021.06.002"
_BMCMSD = "BMC Musculoskelet Disord, doi 10.1186/s12891-020-03816-y"
_SR25 = "Sci Rep (2025), doi 10.1038/s41598-025-03377-x, Table 1"
_POLIKEIT04 = "Polikeit et al., J Biomech 37:1061 (2004)"
_MORGAN03 = "Morgan, Bayraktar, Keaveny, J Biomech 36:897 (2003)"
_IJSS5781 = "Int J Spine Surg, material table of a Goel-group lumbar FE model (ijssurgery.com 5781)"
_KOPPERDAHL02 = "Kopperdahl et al. (2002), QCT-modulus relation for vertebral trabecular bone"
_SMITH14 = "Smith JS et al., J Neurosurg Spine 21:994 (2014), PubMed 25325175"
_NGUYEN11 = "Nguyen et al., Proc Inst Mech Eng H 225:194 (2011)"
_SHAH18 = "Shah et al., Orthop Rev (2018)"
_F136 = "ASTM F136 (wrought Ti-6Al-4V ELI for surgical implants)"
_F1537 = "ASTM F1537 (wrought CoCrMo for surgical implants)"
_F138 = "ASTM F138 (316L stainless steel for surgical implants)"
_DICK01 = "Dick & Bourgeault, Spine 26:1668 (2001)"
_PIOVESAN19 = "Piovesan, Berti, La Barbera et al., J Biomech Eng 141:044505 (2019)"
_DASILVA17 = "da Silva et al., Int J Fatigue 103:258 (2017)"
_OKAZAKI02 = "Okazaki & Gotoh, Mater Trans 43:2949 (2002)"
_NIINOMI98 = "Niinomi (1998); Long & Rack (1998), reviews of biomedical titanium alloys"
_PILLIAR86 = "Pilliar, Lee, Maniatopoulos, Clin Orthop Relat Res 208:108 (1986)"
_JASTY97 = "Jasty et al., J Bone Joint Surg Am 79:707 (1997)"
_KOHLI21 = "Kohli, Stoddart, van Arkel, Sci Rep 11:10797 (2021)"
_SANYAL12 = ("Sanyal, Gupta, Bayraktar, Kwon, Keaveny, J Biomech 45(15):2513 (2012), shear "
             "strength behavior of human trabecular bone")
_KK98 = "Kopperdahl & Keaveny, J Biomech 31:601 (1998)"
_CHAPMAN96 = ("Chapman et al., J Biomech Eng 118(3):391 (1996), doi 10.1115/1.2796022, pullout "
              "strength of cancellous bone screws")
_WEIDLING22 = ("Weidling, Heilemann, Schoenfelder, Heyde, Sci Rep 12 (2022), "
               "doi 10.1038/s41598-022-11824-2, Table 2")
_LP02 = "Lacroix & Prendergast, J Biomech 35:1163 (2002), doi 10.1016/S0021-9290(02)00086-6"
_REVWIRES = "review of mechanobiological healing models, WIREs Syst Biol Med, PMC5082538"
_GHIASI19 = ("Ghiasi, Chen, Rodriguez, Vaziri & Nazarian, BMC Musculoskelet Disord 20 (2019), "
             "doi 10.1186/s12891-019-2854-z")
_PRENDERGAST97 = ("Prendergast et al., J Biomech 30:539 (1997), "
                  "doi 10.1016/S0021-9290(96)00140-6")
_CH99 = "Claes & Heigele, J Biomech 32:255 (1999), doi 10.1016/S0021-9290(98)00153-5"
_PERREN = "Perren's interfragmentary-strain theory, as given in secondary teaching summaries"
_ISSLS = ("ISSLS textbook definition of pseudarthrosis (Wheeless' Textbook of Orthopaedics); "
          "Int J Spine Surg (ijssurgery.com 13711)")
_BOON24 = ("Boonsirikamchai W et al., BMC Musculoskelet Disord 25:433 (2024), "
           "doi 10.1186/s12891-024-07531-w, PMC11149252")

_GUARD = "plausibility guard, not a sourced range"
_NUMERIC_TIE = (_GUARD + "; below 1e-4 of bonded the screws float in the bone numerically "
                "(1e-20: a singular matrix)")
_KNOCKDOWN = (_GUARD + "; at 1e-3 the Basquin curve gives a rod damage of 1e37 per year from "
              "20 MPa amplitudes")


# ------------------------------------------------------------------------------ field types
@dataclass(frozen=True)
class Requires:
    """A condition under which a field applies.

    Exactly one form: ``part`` (the construct has this part: ``screws``, ``rods``, ``cage``,
    ``graft``), ``key`` with ``values`` (that key's value is one of them), or ``key`` with
    ``is_set`` (an optional key is set, True, or unset, False). A field that does not apply
    is left out of the resolved scenario; giving it explicitly is a contradiction.
    """

    part: str | None = None
    key: str | None = None
    values: tuple[Any, ...] = ()
    is_set: bool | None = None


@dataclass(frozen=True)
class DependsOn:
    """A default (or uncertainty range) computed from other fields' resolved values.

    ``rule(*values_of_keys)`` gives the value; ``text`` says how, for documentation.
    """

    keys: tuple[str, ...]
    rule: Callable[..., Any]
    text: str


@dataclass(frozen=True)
class Field:
    """One scenario field.

    Attributes
    ----------
    key : str
        Dotted key, e.g. ``hardware.rod.diameter_mm``.
    kind : str
        ``float``, ``int``, ``bool``, ``str`` (with ``choices``), ``levels`` (e.g. "L4-L5"),
        ``path``, ``float_list``, ``int_list`` or ``activities`` (a list of tables, one per
        further activity: :func:`check_activities`).
    default : Any
        Default value, ``None`` for an optional field that is unset by default, or a
        :class:`DependsOn`.
    description : str
        One line: what the value means.
    unit : str
        Unit of the value (``-`` for dimensionless, ``""`` for strings and booleans).
    low, high : float or None
        Allowed range (each element of a list); None is unbounded.
    low_open, high_open : bool
        True if the bound itself is not allowed.
    choices : tuple of str
        Allowed values of a ``str`` field (matched case-insensitively).
    optional : bool
        The field may be unset (TOML has no null: leave it out).
    source : str
        Citation of the default (paper, journal volume:page (year), doi/PMC), how it was
        obtained; or ``"modelling default: ..."`` / ``"project default: ..."``.
    confidence : str
        Grade of the reference collection (H, M, L, –); empty for unsourced defaults.
    uncertainty : tuple of float or DependsOn or None
        Range of the value for Monte Carlo, where the reference gives one.
    distribution : str or None
        How to sample ``uncertainty``: ``uniform`` or ``lognormal_ci95``.
    requires : tuple of Requires
        Conditions under which the field applies (all must hold).
    min_len : int
        Minimum length of a list field.
    increasing : bool
        A list field must be strictly increasing.
    bounds_note : str
        Where the range bounds come from, if they are not sourced.
    """

    key: str
    kind: str
    default: Any
    description: str
    unit: str = "-"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    source: str = ""
    confidence: str = ""
    uncertainty: tuple[float, float] | DependsOn | None = None
    distribution: str | None = None
    requires: tuple[Requires, ...] = ()
    min_len: int = 0
    increasing: bool = False
    bounds_note: str = ""

    @property
    def uncertain(self) -> bool:
        """True if the field carries a sourced uncertainty range (a Monte Carlo input)."""
        return self.uncertainty is not None

    @property
    def section(self) -> str:
        """Dotted name of the table holding the field (``hardware.rod``)."""
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        """Key within its table (``diameter_mm``)."""
        return self.key.rpartition(".")[2]

    def allowed(self) -> str:
        """The allowed values in words: ``"allowed range [2, 10] mm"`` or the choices."""
        if self.choices:
            return "allowed choices: " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "allowed: true or false"
        if self.kind == "path":
            return "allowed: a file path"
        if self.kind == "activities":
            return ("allowed: a list of tables with keys " + ", ".join(ACTIVITY_ITEM_KEYS)
                    + f"; names other than {', '.join(ACTIVITIES)}")
        if self.kind == "levels":
            return ("allowed: 'UPPER-LOWER' with vertebrae " + ", ".join(LEVEL_NAMES)
                    + ", upper first, e.g. 'L4-L5' or 'L3-L5'")
        if self.kind == "dimensions":
            return ("allowed: a table per vertebra of segment.levels ([segment.dimensions.L4]) "
                    "with keys of the generator's dimension table (spinesim.geometry."
                    "dimensions.BOUNDS gives each key's range and unit)")
        if self.low is None and self.high is None:
            return f"any value ({self.unit_text()})" if self.unit else "any value"
        lo = "(-inf" if self.low is None else ("(" if self.low_open else "[") + _num(self.low)
        hi = "inf)" if self.high is None else _num(self.high) + (")" if self.high_open else "]")
        return f"allowed range {lo}, {hi} {self.unit_text()}".rstrip()

    def unit_text(self) -> str:
        """The unit for messages: ``mm``, or ``(dimensionless)``."""
        return "(dimensionless)" if self.unit == "-" else self.unit


def _num(x: float) -> str:
    """A number as written in messages: integers without a decimal point."""
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(float(x))


@dataclass(frozen=True)
class ActivityEntry:
    """One further activity of ``activity.custom``: like a built-in activity, one load cycle
    from rest to a peak and back, counted per day at baseline and scaled by
    ``activity.level`` and the post-operative ramp (:mod:`spinesim.model.activity`).

    Attributes
    ----------
    name : str
        Lower-case identifier (letters, digits, ``_``), not one of :data:`ACTIVITIES`; it
        names the activity's timeline columns.
    per_day : float
        Cycles per day at baseline activity, cycles/day.
    compression_n : float
        Peak compressive force on the segment per cycle, N.
    moment_nm : float
        Peak pure moment per cycle about the axis of ``direction``, N·m.
    direction : str
        Load-case direction of the moment, one of :data:`DIRECTIONS`.
    """

    name: str
    per_day: float
    compression_n: float
    moment_nm: float = 0.0
    direction: str = "flexion"

    def as_dict(self) -> dict[str, Any]:
        """The entry as a plain dict in :data:`ACTIVITY_ITEM_KEYS` order (TOML, JSON)."""
        return {k: getattr(self, k) for k in ACTIVITY_ITEM_KEYS}


@dataclass(frozen=True)
class DimensionOverrides:
    """Per-vertebra overrides of the geometry generator's cited dimension table
    (``[segment.dimensions.L4]``; :func:`spinesim.geometry.dimensions.level_dimensions`).

    Attributes
    ----------
    items : tuple
        ``(("L4", (("endplate_width_mm", 50.5), ...)), ...)``, sorted: mm and degrees.
    """

    items: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{"L4": {"endplate_width_mm": 50.5}}`` (TOML, JSON)."""
        return {level: dict(values) for level, values in self.items}


def _has(part: str) -> tuple[Requires, ...]:
    return (Requires(part=part),)


# ------------------------------------------------------------------------------ value checks
class FieldValueError(ValueError):
    """A value does not fit its field (the message names key, value and allowed values)."""


_EXPECTED = {"float": "a number", "int": "an integer", "bool": "true or false",
             "str": "a string", "levels": "a string such as 'L4-L5'",
             "path": "a string (file path)", "float_list": "a list of numbers",
             "int_list": "a list of integers",
             "activities": "a list of tables (TOML [[activity.custom]])",
             "dimensions": "a table of per-vertebra tables (TOML [segment.dimensions.L4])"}
_LEVELS_RE = re.compile(r"^\s*([A-Za-z]\d)\s*-\s*([A-Za-z]\d)\s*$")


def _kind_of(value: Any) -> str:
    """TOML-ish name of a value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "table"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{...}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists; os.PathLike as str."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, (np.generic, np.ndarray)):
        return value.tolist() if isinstance(value, np.ndarray) else value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _in_range(f: Field, x: float) -> bool:
    if f.low is not None and (x < f.low or (f.low_open and x == f.low)):
        return False
    return not (f.high is not None and (x > f.high or (f.high_open and x == f.high)))


def _number(f: Field, value: Any, label: str, integer: bool) -> float | int:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected = "an integer" if integer else "a number"
        raise FieldValueError(f"{label} = {_show(value)} has the wrong type: expected "
                              f"{expected}, got {_kind_of(value)}; {f.allowed()}")
    if not math.isfinite(value):
        raise FieldValueError(f"{label} = {value!r} is not a finite number; {f.allowed()}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise FieldValueError(f"{label} = {value!r} has the wrong type: expected an "
                                  f"integer, got a fractional number; {f.allowed()}")
        value = int(value)
    else:
        value = float(value) + 0.0  # -0.0 -> 0.0
    if not _in_range(f, value):
        raise FieldValueError(f"{label} = {value!r} is out of range; {f.allowed()}")
    return value


def _wrong_type(f: Field, value: Any) -> FieldValueError:
    allowed = "" if f.kind in ("bool", "path") else f"; {f.allowed()}"
    return FieldValueError(f"{f.key} = {_show(value)} has the wrong type: expected "
                           f"{_EXPECTED[f.kind]}, got {_kind_of(value)}{allowed}")


def check(f: Field, value: Any) -> Any:
    """The validated, normalised value of field ``f`` (floats as float, lists as tuples,
    choices in their canonical spelling).

    Raises
    ------
    FieldValueError
        Naming the key, the value and the expected type, the allowed range with its unit or
        the allowed choices.
    """
    key = f.key
    value = _plain(value)
    if f.kind in ("float", "int"):
        return _number(f, value, key, f.kind == "int")
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise _wrong_type(f, value)
        return value
    if f.kind in ("float_list", "int_list"):
        if not isinstance(value, (list, tuple)):
            raise _wrong_type(f, value)
        out = tuple(_number(f, v, f"{key}[{i}]", f.kind == "int_list")
                    for i, v in enumerate(value))
        if len(out) < f.min_len:
            raise FieldValueError(f"{key} = {_show(list(out))} needs at least {f.min_len} "
                                  "value(s)")
        if f.increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise FieldValueError(f"{key} = {_show(list(out))} must be strictly increasing")
        return out
    if f.kind == "activities":
        return check_activities(f, value)
    if f.kind == "dimensions":
        return check_dimensions(f, value)
    if not isinstance(value, str):
        raise _wrong_type(f, value)
    if f.kind == "path":
        if not value.strip():
            raise FieldValueError(f"{key} = {value!r} is empty; expected a file path")
        return value
    if f.kind == "levels":
        return _levels(f, value)
    return _choice(f, value, key)


def _choice(f: Field, value: str, label: str) -> str:
    """``value`` in the canonical spelling of one of ``f.choices``."""
    choice = value.strip().lower()
    if choice not in f.choices:
        close = difflib.get_close_matches(choice, f.choices, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise FieldValueError(f"{label} = {_show(value)} is not one of the {f.allowed()}{hint}")
    return choice


def check_activities(f: Field, value: Any) -> tuple[ActivityEntry, ...]:
    """The validated entries of an ``activities`` field (``activity.custom``): a list of
    tables (or :class:`ActivityEntry`) with a new name, ``per_day`` and ``compression_n``
    each, ``moment_nm`` (default 0) and ``direction`` (default ``"flexion"``) optional; the
    numbers in the ranges of the built-in activities' fields.

    Raises
    ------
    FieldValueError
        Naming the entry (``activity.custom[1].per_day``), the value and what is allowed.
    """
    value = _plain(value)
    if not isinstance(value, (list, tuple)):
        raise _wrong_type(f, value)
    items = _CUSTOM_ACTIVITY_FIELDS
    out: list[ActivityEntry] = []
    for i, item in enumerate(value):
        where = f"{f.key}[{i}]"
        item = item.as_dict() if isinstance(item, ActivityEntry) else _plain(item)
        if not isinstance(item, Mapping):
            raise FieldValueError(f"{where} = {_show(item)} has the wrong type: expected a "
                                  f"table with keys {', '.join(ACTIVITY_ITEM_KEYS)}, got "
                                  f"{_kind_of(item)}")
        for k in item:
            if k not in ACTIVITY_ITEM_KEYS:
                close = difflib.get_close_matches(str(k), ACTIVITY_ITEM_KEYS, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; valid keys: {', '.join(ACTIVITY_ITEM_KEYS)}"
                raise FieldValueError(f"{where}: unknown key {_show(k)}{hint}")
        missing = [k for k in ("name", "per_day", "compression_n") if k not in item]
        if missing:
            raise FieldValueError(f"{where} lacks {', '.join(missing)}: every further activity "
                                  "needs name, per_day and compression_n (moment_nm defaults "
                                  "to 0, direction to 'flexion')")
        name = _plain(item["name"])
        if not isinstance(name, str) or not _ACTIVITY_NAME_RE.match(name):
            raise FieldValueError(f"{where}.name = {_show(name)} is not an activity name: "
                                  "lower-case letters, digits and '_', starting with a letter, "
                                  "at most 40 characters (it names timeline columns)")
        if name in ACTIVITIES:
            raise FieldValueError(f"{where}.name = {name!r} is a built-in activity: set "
                                  f"activity.{name}.* instead, or choose another name")
        twice = [j for j, e in enumerate(out) if e.name == name]
        if twice:
            raise FieldValueError(f"{where}.name = {name!r} is given twice (also "
                                  f"{f.key}[{twice[0]}])")
        nums = {k: _number(items[k], item.get(k, 0.0), f"{where}.{k}", False)
                for k in ("per_day", "compression_n", "moment_nm")}
        direction = _plain(item.get("direction", "flexion"))
        if not isinstance(direction, str):
            raise FieldValueError(f"{where}.direction = {_show(direction)} has the wrong type: "
                                  f"expected a string; {items['direction'].allowed()}")
        direction = _choice(items["direction"], direction, f"{where}.direction")
        if nums["compression_n"] == 0.0 and nums["moment_nm"] == 0.0:
            raise FieldValueError(f"{where} ({name!r}) has compression_n = 0 and moment_nm = 0: "
                                  "it loads nothing; give a compression in N or a moment in N·m")
        out.append(ActivityEntry(name, nums["per_day"], nums["compression_n"],
                                 nums["moment_nm"], direction))
    return tuple(out)


def check_dimensions(f: Field, value: Any) -> DimensionOverrides:
    """The validated overrides of a ``dimensions`` field (``segment.dimensions``): a table
    per vertebra, each with keys of the generator's dimension table in their ranges.

    Raises
    ------
    FieldValueError
        Naming the entry (``segment.dimensions.L4.endplate_width_mm``), the value and what
        is allowed (closest valid key, range and unit).
    """
    from spinesim.errors import MeshError
    from spinesim.geometry.dimensions import BOUNDS, level_dimensions

    if isinstance(value, DimensionOverrides):
        value = value.as_dict()
    value = _plain(value)
    if not isinstance(value, Mapping):
        raise _wrong_type(f, value)
    out = []
    for level, table in value.items():
        where = f"{f.key}.{level}" if len(str(level)) <= 60 else f"{f.key}.{str(level)[:57]}..."
        if str(level).upper() not in LEVEL_NAMES:
            raise FieldValueError(f"{where}: unknown vertebra {_show(level)}; allowed: "
                                  f"{', '.join(LEVEL_NAMES)}")
        table = _plain(table)
        if not isinstance(table, Mapping):
            raise FieldValueError(f"{where} = {_show(table)} has the wrong type: expected a "
                                  f"table of dimensions, got {_kind_of(table)}")
        nums = {}
        for k, v in table.items():
            if k not in BOUNDS:
                close = difflib.get_close_matches(str(k), BOUNDS, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; valid keys: {', '.join(BOUNDS)}"
                raise FieldValueError(f"{where}: unknown dimension {_show(k)}{hint}")
            lo, hi, unit = BOUNDS[k]
            bounds = Field(f"{where}.{k}", "float", None, "", unit, lo, hi)
            nums[str(k)] = _number(bounds, v, bounds.key, False)
        try:
            level_dimensions(str(level), **nums)      # S1 disc keys, concavity vs height
        except MeshError as exc:
            raise FieldValueError(f"{where}: {exc}") from None
        if any(lv == str(level).upper() for lv, _ in out):
            raise FieldValueError(f"{where}: vertebra {str(level).upper()} is given twice")
        out.append((str(level).upper(), tuple(sorted(nums.items()))))
    return DimensionOverrides(tuple(sorted(out)))


def _levels(f: Field, value: str) -> str:
    m = _LEVELS_RE.match(value)
    names = [g.upper() for g in m.groups()] if m else []
    if not m or any(n not in LEVEL_NAMES for n in names):
        raise FieldValueError(f"{f.key} = {_show(value)} is not a span of vertebrae; "
                              f"{f.allowed()}")
    upper, lower = (LEVEL_NAMES.index(n) for n in names)
    if upper >= lower:
        raise FieldValueError(f"{f.key} = {value!r}: the upper vertebra must be cranial to the "
                              f"lower one; {f.allowed()}")
    return f"{names[0]}-{names[1]}"


# ------------------------------------------------------------------------------ dependent rules
_NOTCH_DEFAULT = {"ti6al4v": 2.0, "cocr": 1.0, "ss316l": 1.0}
_NOTCH_RANGE = {"ti6al4v": (1.5, 2.5)}
_VTU_WEEKS = (0, 6, 12, 26, 52)


def _vtu_default(weeks: int) -> list[int]:
    return sorted({w for w in _VTU_WEEKS if w <= weeks} | {int(weeks)})


_ROD = _has("rods")
_SCREW = _has("screws")
_CAGE = _has("cage")
_GRAFT = _has("graft")
_CELLS = _GRAFT + (Requires(key="healing.cells.migration", values=(True,)),)
_MATERIALS = ("ti6al4v", "cocr", "ss316l")


def _activity(name: str, what: str, per_day: float, per_day_source: str, conf_n: str,
              compression: float, compression_source: str, conf_c: str,
              compression_range: tuple[float, float] | None,
              moment: float, moment_source: str, conf_m: str,
              moment_range: tuple[float, float] | None) -> list[Field]:
    k = f"activity.{name}"
    return [
        Field(f"{k}.per_day", "float", per_day, f"{what}: cycles per day at full (baseline) "
              "activity", "cycles/day", 0, 100_000, source=per_day_source, confidence=conf_n,
              bounds_note=_GUARD),
        Field(f"{k}.compression_n", "float", compression, f"{what}: peak compressive force on "
              "the segment per cycle (cycle from 0 to the peak and back)", "N", 0, 5_000,
              source=compression_source, confidence=conf_c, uncertainty=compression_range,
              distribution="uniform" if compression_range else None, bounds_note=_GUARD),
        Field(f"{k}.moment_nm", "float", moment, f"{what}: peak pure moment per cycle about "
              f"the axis of '{k}.direction'", "N·m", 0, 30, source=moment_source,
              confidence=conf_m, uncertainty=moment_range,
              distribution="uniform" if moment_range else None, bounds_note=_GUARD),
        Field(f"{k}.direction", "str", "flexion", f"{what}: load-case direction of the moment "
              "(signs in spinesim.model.loadcases)", "", choices=DIRECTIONS,
              source="modelling default: sagittal movements load the segment in flexion "
                     f"({_ROHLMANN14A} counts sagittal movements only)"),
    ]


#: The fields one ``activity.custom`` entry is checked against (by name): the ranges, units
#: and direction choices of the built-in activities, built by the same helper.
_CUSTOM_ACTIVITY_FIELDS: dict[str, Field] = {
    f.name: f for f in _activity("custom", "Further activity", 0.0, "user input", "", 0.0,
                                 "user input", "", None, 0.0, "user input", "", None)}


# ------------------------------------------------------------------------------ the table
FIELDS: tuple[Field, ...] = (
    # -------------------------------------------------------------------------- segment
    Field("segment.levels", "levels", "L4-L5",
          "Vertebrae spanned by the model, upper-lower: 'L4-L5' is one motion segment, "
          "'L3-L5' two", "", source="project default (issue 6: fused L4-L5)"),
    Field("segment.construct", "str", "bilateral-cage",
          "intact; bilateral screws and rods (disc kept); bilateral-cage or unilateral-cage "
          "(discectomy, cage with graft, screws and rods on both or one side); cage-only; "
          "posterolateral (disc kept, bilateral screws and rods, a graft between the "
          "transverse processes on each side)",
          "", choices=CONSTRUCTS,
          source="project default (issue 6: PEEK cage with graft, bilateral rods)"),
    Field("segment.resolution", "float", 1.0,
          "Mesh refinement of the generated geometry: scales element counts (1: about 2.5 mm "
          "elements, 2: twice as fine)", "-", 0.3, 4.0,
          requires=(Requires(key="segment.mesh", is_set=False),),
          bounds_note="the range the geometry generator accepts",
          source="modelling default (spinesim.geometry.lumbar_segment resolution 1)"),
    Field("segment.mesh", "path", None,
          "Mesh file with named region tags (read with meshio) replacing the generated "
          "geometry; a relative path is relative to the scenario file's folder", "",
          optional=True, source="modelling default: unset, the geometry is generated"),
    Field("segment.dimensions", "dimensions", None,
          "Overrides of the generator's cited dimension table per vertebra (mm, degrees): "
          "a patient's measured geometry, e.g. [segment.dimensions.L4] endplate_width_mm = "
          "50.5 (examples/anatomy_comparison.py measures them from surfaces)", "",
          optional=True, requires=(Requires(key="segment.mesh", is_set=False),),
          source="modelling default: unset, the cited table of spinesim.geometry.dimensions"),
    # -------------------------------------------------------------------------- bone
    Field("bone.quality", "str", "healthy",
          "Bone quality; osteoporotic scales cortical E by 0.67 and cancellous E by 0.34", "",
          choices=("healthy", "osteoporotic"),
          source=f"project default (issue 6: normal bone); osteoporosis factors: {_SR25}, same "
                 f"ratios as {_POLIKEIT04}", confidence="H"),
    Field("bone.apparent_density_g_cm3", "float", None,
          "Cancellous apparent density setting the cancellous modulus through "
          "'bone.density_relation' (healthy bone only); unset: the 100 MPa default core",
          "g/cm³", 0.01, 2.0, optional=True,
          source=f"not sourced: no typical lumbar apparent density is given in the reference, "
                 f"so there is no default (relation: {_MORGAN03}, as quoted in {_IJSS5781})",
          bounds_note="guards, not a sourced range: 2 g/cm³ is a unit guard (no apparent "
                      "density exceeds that of bone tissue); below 0.01 g/cm³ the modulus "
                      "vanishes (Morgan 2003: 3.6 MPa at 0.01)"),
    Field("bone.density_relation", "str", "morgan2003",
          "Density-modulus relation: morgan2003 E = 4730 rho^1.56 (axial); kopperdahl2002 "
          "E = -34.7 + 3230 rho_QCT", "", choices=("morgan2003", "kopperdahl2002"),
          requires=(Requires(key="bone.apparent_density_g_cm3", is_set=True),),
          source=f"morgan2003: {_MORGAN03}, as quoted in {_IJSS5781} (H); kopperdahl2002: "
                 f"{_KOPPERDAHL02} (M)", confidence="H"),
    Field("bone.cancellous_modulus_scale", "float", 1.0,
          "Patient factor on the cancellous modulus that 'bone.quality' or "
          "'bone.apparent_density_g_cm3' give: bone density varies between patients", "-",
          0.05, 5.0, uncertainty=(0.327, 1.673), distribution="uniform", bounds_note=_GUARD,
          source=f"modelling default 1; range derived here from the spread of vertebral "
                 f"trabecular moduli in mechanical tests, 291 +- 113 MPa (mean +- SD, {_KK98}): "
                 "a uniform factor with mean 1 and the same relative SD, 0.39", confidence="M"),
    Field("bone.posterior_modulus_scale", "float", 1.0,
          "Factor on the posterior elements' homogenized modulus (3500 MPa), which "
          "'bone.quality' leaves unscaled; 0.34 would scale them like osteoporotic cancellous "
          "bone", "-", 0.01, 5.0,
          bounds_note=_GUARD + "; 0.01 gives 35 MPa, about the osteoporotic cancellous "
                      "modulus (34 MPa): posterior elements without any cortical bone",
          source=f"modelling default 1 (3500 MPa: {_IJSS5781}); no osteoporotic scaling "
                 "of the posterior elements is sourced (reference bone.md, 'Not sourced "
                 "here'), so this factor is for sensitivity studies"),
    # -------------------------------------------------------------------------- hardware
    Field("hardware.rod.material", "str", "ti6al4v", "Rod alloy", "", choices=_MATERIALS,
          requires=_ROD,
          source=f"project default (issue 6: Ti-6Al-4V rods); rod materials in clinical use: "
                 f"CoCr 53 %, stainless steel 26 %, Ti 21 % ({_SMITH14})"),
    Field("hardware.rod.diameter_mm", "float", 5.5, "Rod diameter", "mm", 2.0, 10.0,
          requires=_ROD, bounds_note=_GUARD,
          source=f"{_SMITH14}: 5.5 mm in 68 % of an adult spinal deformity cohort (6.0 mm "
                 "13 %, 6.35 mm 19 %); found in source", confidence="H"),
    Field("hardware.rod.notch_factor", "float",
          DependsOn(("hardware.rod.material",), lambda m: _NOTCH_DEFAULT[m],
                    "2.0 for ti6al4v (midpoint of 1.5-2.5); 1.0 for cocr and ss316l"),
          "Fatigue notch factor K_f of the contoured/notched rod (1 = straight, smooth rod); "
          "divides the S-N amplitude capacity", "-", 1.0, 5.0, requires=_ROD,
          uncertainty=DependsOn(("hardware.rod.material",), lambda m: _NOTCH_RANGE.get(m),
                                "1.5-2.5 for ti6al4v; no range for cocr and ss316l"),
          distribution="uniform", bounds_note="K_f >= 1 by definition; 5 is a plausibility guard",
          source=f"Ti: K_f 1.5-2.5, based on {_DICK01} and {_PIOVESAN19}, derived here "
                 "(engineering judgement). CoCr and 316L are much less notch sensitive "
                 "(same sources) but no value is sourced: modelling default 1.0 (no knock-down)",
          confidence="L"),
    Field("hardware.screw.material", "str", "ti6al4v", "Pedicle-screw alloy", "",
          choices=_MATERIALS, requires=_SCREW,
          source=f"modelling default: the rod alloy of the default construct (Ti screws "
                 f"7.5 x 35 mm were tested by {_NGUYEN11}; {_SHAH18})"),
    Field("hardware.screw.diameter_mm", "float", 6.5, "Screw outer (thread crest) diameter",
          "mm", 3.0, 10.0, requires=_SCREW, bounds_note=_GUARD,
          source=f"{_NGUYEN11}; {_SHAH18}: lumbar pedicle screws of construct tests 6.5 x 35 mm "
                 "(stainless steel), 7.5 x 35 mm (Ti), 6.0 x 45 mm (polyaxial); found in source",
          confidence="H"),
    Field("hardware.screw.length_mm", "float", 35.0, "Screw shank length in the bone", "mm",
          20.0, 80.0, requires=_SCREW, bounds_note=_GUARD,
          source=f"{_NGUYEN11}; {_SHAH18}: 35 mm (and 45 mm) screws; found in source",
          confidence="H"),
    Field("hardware.screw.core_diameter_mm", "float", None,
          "Thread root diameter (the beam section); unset: the hardware model's default",
          "mm", 1.0, 10.0, optional=True, requires=_SCREW, bounds_note=_GUARD,
          source="not sourced in the reference: no default"),
    Field("hardware.screw.thread_pitch_mm", "float", 2.5,
          "Thread pitch; with the thread depth (outer - core diameter) / 2 it sets the thread "
          "shape factor of the predicted pullout strength (and nothing else)", "mm", 0.5, 6.0,
          requires=_SCREW, bounds_note=_GUARD,
          source=f"{_WEIDLING22}: commercial pedicle screws of 6-7.5 mm outer diameter have "
                 "pitches 2.0-4.0 mm (2.75-4.0 mm at 6.5 mm) and mean core diameters "
                 "3.65-5.10 mm (found in source); 2.5 mm is the hardware model's default "
                 "inside that range (modelling default)", confidence="M"),
    Field("hardware.screw.count", "int", None,
          "Number of pedicle screws, as a check: must equal the construct's (bilateral 2, "
          "unilateral 1 per instrumented vertebra)", "screws", 1, 12, optional=True,
          requires=_SCREW, source="modelling default: unset, the construct decides"),
    # -------------------------------------------------------------------------- cage, graft
    Field("cage.material", "str", "peek", "Interbody cage material (titanium = Ti-6Al-4V)", "",
          choices=("peek", "titanium"), requires=_CAGE,
          source=f"project default (issue 6: PEEK cage); PEEK E 3 600 MPa: {_SR25}",
          confidence="H"),
    Field("cage.height_mm", "float", None,
          "Cage height; unset: the disc height of the geometry (the cage fills the disc space)",
          "mm", 4.0, 25.0, optional=True, requires=_CAGE, bounds_note=_GUARD,
          source="not sourced in the reference: unset, the geometry decides"),
    Field("cage.width_mm", "float", None,
          "Cage footprint, left-right; unset: the geometry generator's cage", "mm",
          5.0, 60.0, optional=True, requires=_CAGE, bounds_note=_GUARD,
          source="not sourced in the reference: unset, the geometry decides"),
    Field("cage.depth_mm", "float", None,
          "Cage footprint, anterior-posterior; unset: the geometry generator's cage",
          "mm", 5.0, 60.0, optional=True, requires=_CAGE, bounds_note=_GUARD,
          source="not sourced in the reference: unset, the geometry decides"),
    Field("cage.interface", "str", "bonded",
          "Cage on the endplates: 'bonded' (the conforming mesh; the cage also carries tension "
          "across the endplates) or 'contact' (compression-only normal contact, so the unloaded "
          "side can lift off, held in shear by the teeth; each load case's contact is then "
          "solved by an active set, the default timeline taking about 4x as long)", "",
          choices=("bonded", "contact"),
          requires=_CAGE,
          source="modelling default: bonded (the linear timeline); a PEEK cage does not bond "
                 "to bone, 'contact' shows what that changes (README)"),
    Field("graft.type", "str", "autograft",
          "Graft type; its effect on healing is 'healing.modifiers.graft_odds_ratio'", "",
          choices=("autograft", "allograft", "synthetic"), requires=_GRAFT,
          source="modelling default: autograft (the reference gives no graft-type effect)"),
    Field("graft.initial_modulus_mpa", "float", 0.2,
          "Graft modulus at day 0 (graft treated as granulation tissue); graft quality in "
          "Monte Carlo", "MPa", 1e-3, 100.0, requires=_GRAFT,
          uncertainty=(0.2, 1.0), distribution="uniform",
          bounds_note=_GUARD + "; below 1e-3 MPa the graft is numerically detached from the "
                               "bone and cage (1e-20 MPa: a singular matrix)",
          source=f"granulation tissue E 0.2 MPa: {_LP02}, as tabulated in {_REVWIRES} (H); "
                 "range to 1 MPa: Geris et al. variant in the same table; graft as granulation "
                 "tissue is derived here", confidence="–"),
    Field("graft.drainage", "str", "drained",
          "Elastic response of the healing tissues at each activity peak: 'drained' (the "
          "long-time response, the pore fluid flowed out) or 'undrained' (loaded faster than "
          "they drain: Biot's short-time limit, pore fluid carrying the volume change; "
          "spinesim.failure.graft_drainage)", "",
          choices=("drained", "undrained"), requires=_GRAFT,
          source=f"modelling default 'drained'; undrained constants from the poroelastic "
                 f"table of {_LP02}, as tabulated in {_REVWIRES} (H)"),
    Field("graft.volume_fraction", "float", 1.0,
          "Fraction of the graft space (cage window, disc space) filled with graft", "-",
          0.0, 1.0, low_open=True, requires=_GRAFT,
          source="modelling default: fully packed (not sourced)"),
    # -------------------------------------------------------------------------- activity
    Field("activity.level", "float", 1.0,
          "Activity multiplier on every cycle count per day (1 = the sourced baseline)", "-",
          0.0, 3.0, uncertainty=(0.62, 1.07), distribution="uniform", bounds_note=_GUARD,
          source=f"modelling default 1.0; range derived here: 3 500-6 000 steps/day after "
                 f"surgery ({_APMR21}; {_BMCMSD}) over the 5 624 steps/day baseline "
                 f"({_STIENEN20})", confidence="L"),
    Field("activity.ramp_weeks", "float_list", [1.0, 2.0, 4.0, 8.0],
          "Post-operative weeks of the activity ramp points (linear between them, held "
          "before the first and after the last)", "weeks", 0.0, 520.0, min_len=1,
          increasing=True,
          source=f"{_STIENEN20}: activity -71 % in week 1, -37 % in week 2, -23 % in week 4, "
                 "back to baseline over about 8 weeks; found in source", confidence="H"),
    Field("activity.ramp_fraction", "float_list", [0.29, 0.63, 0.77, 1.0],
          "Activity as a fraction of baseline at each of 'activity.ramp_weeks'", "-", 0.0, 2.0,
          min_len=1, bounds_note=_GUARD,
          source=f"{_STIENEN20}, derived here as 1 - reduction (0.29, 0.63, 0.77, 1.0)",
          confidence="H"),
    *_activity("walking", "Walking (one step)", 5624.0,
               f"{_STIENEN20}: 5 624 steps/day before spine surgery (mean, n = 30)", "H",
               400.0, f"modelling default: no walking load is sourced; the typical "
               f"'physiological' compression of FE studies, 400 N ({_JHE17B}, M)", "",
               None, 0.0, "modelling default: no per-step moment is sourced (compression "
               "only)", "", None),
    *_activity("bending", "Sagittal bend (>= 5°)", 4400.0,
               f"{_ROHLMANN14A}: median 4 400 sagittal spine movements per 24 h (n = 208), "
               "66 % of them 5-10°", "H",
               330.0, f"telemetry (anterior-column force after corpectomy, used as the "
               f"segment's compression): {_DREISCHARF15}: +330 N flexion vs upright, standing "
               "(H); "
               f"{_ROHLMANN13}: +285 N for upper-body flexion (H)", "H", (285.0, 330.0),
               1.06, f"derived here: 7.5 N·m protocol moment ({_DREISCHARF14}) x bend 7.5° "
               f"(midpoint of 5-10°, {_ROHLMANN14A}) / 53° maximum inclination "
               f"({_DREISCHARF15}), assuming moment proportional to inclination; range from "
               "bends of 5-10°", "L", (0.71, 1.42)),
    *_activity("full_flexion", "Full flexion", 50.0,
               f"{_ROHLMANN14A}: median 50 full flexions per day (within the 4 400 "
               "movements)", "H",
               450.0, f"telemetry (anterior-column force after corpectomy): {_DREISCHARF15}: "
               "force plateau about 450 N from 33° inclination, peak "
               "about 565 N when returning upright", "H", (450.0, 565.0),
               7.5, f"modelling default: the standard lumbar pure moment ({_DREISCHARF14}; "
               f"{_HEUER07}) stands in for the unmeasured in-vivo moment", "", None),
    *_activity("lifting", "Lifting and other high-load activities", 0.0,
               "modelling default 0 (off): no count per day is sourced; give one to include "
               "lifting", "",
               1650.0, f"telemetry (anterior-column force after corpectomy): {_ROHLMANN14B}: "
               "up to 1 650 N (lifting from the ground, raising arms "
               "with a weight, tying shoes, stairs, changing position)", "H", None,
               7.5, f"modelling default: the standard lumbar pure moment ({_DREISCHARF14}) "
               "stands in for the unmeasured in-vivo moment", "", None),
    Field("activity.custom", "activities", [],
          "Further activities, e.g. stair climbing or sit-to-stand: a list of tables "
          "(TOML [[activity.custom]]) with name, per_day (cycles/day at baseline), "
          "compression_n (N), moment_nm (N·m, default 0) and direction (default 'flexion'); "
          "each is one load cycle from rest to its peak and back, scaled by activity.level "
          "and the ramp like the built-in activities", "",
          source="modelling default: none. The reference gives no counts per day for other "
                 "activities (issue 6 names standing, sitting and stair climbing); its "
                 f"telemetry gives peak increments, e.g. +200 N for flexion while sitting "
                 f"({_DREISCHARF15}), +190 N for a 30 N weight carried in one hand "
                 f"({_ROHLMANN13})"),
    # -------------------------------------------------------------------------- protocol
    Field("protocol.moment_nm", "float", 7.5,
          "Pure moment of the in-vitro protocol (ROM, construct stiffness)", "N·m", 0.0, 30.0,
          low_open=True, bounds_note=_GUARD,
          source=f"{_DREISCHARF14}; {_HEUER07}; {_PIMENTA12}: standard lumbar pure moment "
                 f"7.5 N·m (alternative 10 N·m: {_YAMAMOTO89}); found in source",
          confidence="H"),
    Field("protocol.preload_n", "float", 0.0,
          "Compressive follower preload of the protocol (0 = none); the ROM is measured "
          "from the preloaded position", "N", 0.0, 3_000.0,
          bounds_note=_GUARD,
          source=f"follower preload optional ({_WILKE98}); 500-1 175 N in the validation of "
                 f"{_REMUS21}", confidence="M"),
    # -------------------------------------------------------------------------- healing
    Field("healing.rule", "str", "prendergast",
          "Mechanoregulation rule of tissue differentiation in the graft (Prendergast-Lacroix's "
          "resorption window, S <= 0.01, counts as mature bone unless "
          "healing.prendergast.resorption; timeline.csv's graft_resorption_window_fraction "
          "gives its share)",
          "",
          choices=("prendergast", "claes", "strain_window"), requires=_GRAFT,
          source=f"modelling default: Prendergast-Lacroix ({_PRENDERGAST97}; {_LP02}), the "
                 "first rule of the reference; Claes-Heigele and strain windows selectable"),
    Field("healing.rate_per_week", "float", 1.0,
          "Healing rate: at most this many tissue-phase steps per week", "phases/week", 0.0,
          5.0, low_open=True, requires=_GRAFT, bounds_note=_GUARD,
          source="modelling default (spinesim.failure.healing.rate_limited): the reference "
                 "gives no rate and no range"),
    Field("healing.averaging_iterations", "int", 1,
          "Weekly stimuli averaged before classifying (1 = no averaging)", "iterations", 1, 52,
          requires=_GRAFT, bounds_note=_GUARD,
          source="modelling default: the reference gives no averaging window"),
    Field("healing.cells.migration", "bool", False,
          "Mesenchymal cells reach the graft by diffusion from the endplates; its moduli mix "
          "the differentiated tissue and granulation tissue by the cell concentration "
          "(spinesim.failure.cell_migration); off: cells everywhere from day 0", "",
          requires=_GRAFT,
          source=f"modelling default off; the mechanism of {_LP02}, where the cell diffusion "
                 f"rate sets the healing speed ({_REVWIRES}, M)"),
    Field("healing.cells.diffusion_mm2_per_day", "float", 0.5,
          "Cell diffusion coefficient D (divided by the healing odds ratio, like the rate)",
          "mm^2/day", 0.0, 100.0, low_open=True, requires=_CELLS, bounds_note=_GUARD,
          source=f"{_GHIASI19}: D = 0.5 mm2/day (caption of their Fig. 5; found in source; a "
                 "parameter of their human fracture-healing model, not a measurement)",
          confidence="M"),
    Field("healing.cells.initial_concentration", "float", 0.0,
          "Cell concentration of the graft at day 0, as a fraction of the maximum", "-", 0.0,
          1.0, requires=_CELLS,
          source="modelling default 0: the day-0 graft is granulation tissue (derived from "
                 f"{_LP02}); the cells an autograft carries are not sourced"),
    Field("healing.cells.bone_concentration", "float", 0.5,
          "A graft cell counts as bone (bone fraction, bridging) when its tissue is bone and "
          "its cell concentration has reached this", "-", 0.0, 1.0, low_open=True,
          requires=_CELLS,
          source="modelling default 0.5 (most of the cell's tissue is bone), not sourced"),
    Field("healing.prendergast.a", "float", 0.0375,
          "Octahedral shear strain normalisation a of S = gamma/a + v/b", "-", 0.0, 1.0,
          low_open=True, requires=_GRAFT + (Requires(key="healing.rule",
                                                     values=("prendergast",)),),
          source=f"{_PRENDERGAST97}; {_LP02}; from the literature, not re-checked",
          confidence="H"),
    Field("healing.prendergast.b_um_s", "float", 3.0,
          "Fluid velocity normalisation b of S = gamma/a + v/b", "µm/s", 0.0, 1_000.0,
          low_open=True, requires=_GRAFT + (Requires(key="healing.rule",
                                                     values=("prendergast",)),),
          source=f"{_PRENDERGAST97}; {_LP02}; from the literature, not re-checked",
          confidence="H"),
    Field("healing.prendergast.resorption", "bool", False,
          "Apply the rule's resorption window: graft bone whose stimulus falls to S <= 0.01 "
          "turns, one phase step at the healing rate, into resorbed tissue (no longer bone, "
          "so a bridge can be lost) with the properties below, instead of staying mature bone",
          "", requires=_GRAFT + (Requires(key="healing.rule", values=("prendergast",)),),
          source=f"modelling default off: the window is part of the rule ({_PRENDERGAST97}; "
                 f"{_LP02}), but no property of resorbed tissue and no remodelling rate are "
                 "sourced here (README, 'What the model predicts')"),
    Field("healing.prendergast.resorbed_modulus_mpa", "float", 2.0,
          "Young's modulus of resorbed graft tissue", "MPa", 0.0, 6_000.0, low_open=True,
          requires=_GRAFT + (Requires(key="healing.prendergast.resorption", values=(True,)),),
          source=f"marrow in the tissue table of {_LP02}, as tabulated in {_REVWIRES}; "
                 "that resorbed bone becomes marrow is a choice made here", confidence="H"),
    Field("healing.prendergast.resorbed_poisson", "float", 0.167,
          "Poisson's ratio of resorbed graft tissue", "-", 0.0, 0.5, high_open=True,
          requires=_GRAFT + (Requires(key="healing.prendergast.resorption", values=(True,)),),
          source=f"marrow in the tissue table of {_LP02}, as tabulated in {_REVWIRES}",
          confidence="H"),
    Field("healing.claes.bone_strain", "float", 0.05,
          "Claes-Heigele: bone forms below this strain (and |p| below the pressure)", "-",
          0.0, 1.0, low_open=True,
          requires=_GRAFT + (Requires(key="healing.rule", values=("claes",)),),
          source=f"{_CH99}: about 5 %; from the literature, not re-checked", confidence="M"),
    Field("healing.claes.cartilage_strain", "float", 0.15,
          "Claes-Heigele: endochondral ossification below this strain (compressive p above "
          "the pressure)", "-", 0.0, 1.0, low_open=True,
          requires=_GRAFT + (Requires(key="healing.rule", values=("claes",)),),
          source=f"{_CH99}: about 15 %; from the literature, not re-checked", confidence="M"),
    Field("healing.claes.pressure_mpa", "float", 0.15,
          "Claes-Heigele: hydrostatic pressure threshold", "MPa", 0.0, 10.0, low_open=True,
          requires=_GRAFT + (Requires(key="healing.rule", values=("claes",)),),
          bounds_note=_GUARD,
          source=f"{_CH99}: 0.15 MPa; from the literature, not re-checked", confidence="M"),
    Field("healing.strain_window.preset", "str", "perren",
          "Strain windows: perren = < 2 % bone, 2-10 % fibrocartilage, 10-100 % granulation",
          "", choices=("perren",),
          requires=_GRAFT + (Requires(key="healing.rule", values=("strain_window",)),),
          source=f"{_PERREN}; found in source (secondary summaries)", confidence="H"),
    Field("healing.modifiers.smoker", "bool", False, "The patient smokes", "",
          requires=_GRAFT, source="modelling default: non-smoker"),
    Field("healing.modifiers.smoking_odds_ratio", "float", 3.0,
          "Odds ratio of pseudarthrosis, smoker vs non-smoker", "-", 0.0, 100.0,
          low_open=True, requires=_GRAFT, uncertainty=(1.68, 5.44),
          distribution="lognormal_ci95", bounds_note=_GUARD,
          source=f"{_BOON24}: 95 % CI 1.68-5.44 (found in source, H); point 3.0 derived here "
                 "as sqrt(1.68 x 5.44)", confidence="M"),
    Field("healing.modifiers.age_years", "float", None,
          "Patient age; unset: no age effect (needs 'reference_age_years')", "years", 18.0,
          100.0, optional=True, requires=_GRAFT, bounds_note="adult patients; plausibility guard",
          source="modelling default: unset"),
    Field("healing.modifiers.reference_age_years", "float", None,
          "Age at which the age odds ratio is 1 (the model's healing rate applies)", "years",
          18.0, 100.0, optional=True,
          requires=_GRAFT + (Requires(key="healing.modifiers.age_years", is_set=True),),
          bounds_note="adult patients; plausibility guard",
          source="not sourced: required with 'age_years', no default"),
    Field("healing.modifiers.age_odds_ratio_per_year", "float", 1.06,
          "Odds ratio of pseudarthrosis per year of age", "1/year", 0.0, 10.0, low_open=True,
          requires=_GRAFT, uncertainty=(1.02, 1.11), distribution="lognormal_ci95",
          bounds_note=_GUARD,
          source=f"{_BOON24}: 95 % CI 1.02-1.11 (found in source, H); point 1.06 derived here "
                 "as sqrt(1.02 x 1.11)", confidence="M"),
    Field("healing.modifiers.levels_odds_ratio", "float", 1.35,
          "Odds ratio of pseudarthrosis per additional fused level", "-", 0.0, 10.0,
          low_open=True, requires=_GRAFT, uncertainty=(1.17, 1.55),
          distribution="lognormal_ci95", bounds_note=_GUARD,
          source=f"{_BOON24}: 1.35 (95 % CI 1.17-1.55); found in source", confidence="H"),
    Field("healing.modifiers.osteoporosis_odds_ratio", "float", 1.0,
          "Odds ratio of pseudarthrosis for osteoporotic bone (bone.quality)", "-", 0.0, 100.0,
          low_open=True, requires=_GRAFT, bounds_note=_GUARD,
          source="modelling default 1.0 (no effect): not sourced in the reference"),
    Field("healing.modifiers.graft_odds_ratio", "float", 1.0,
          "Odds ratio of pseudarthrosis of 'graft.type' relative to autograft", "-", 0.0,
          100.0, low_open=True, requires=_GRAFT, bounds_note=_GUARD,
          source="modelling default 1.0 (no effect): not sourced in the reference"),
    # -------------------------------------------------------------------------- loosening
    Field("loosening.bone_threshold_um", "float", 28.0,
          "Cyclic screw-bone micromotion below which bone grows onto the screw", "µm", 0.0,
          1_000.0, low_open=True, requires=_SCREW, uncertainty=(20.0, 40.0),
          distribution="uniform", bounds_note=_GUARD,
          source=f"{_PILLIAR86}: <= 28 µm -> bone (H); range 20-40 µm from {_JASTY97} "
                 "(<= 20 µm bone, 40 µm mixed, M); from the literature, not re-checked",
          confidence="H"),
    Field("loosening.fibrous_threshold_um", "float", 150.0,
          "Cyclic screw-bone micromotion above which the interface turns fibrous (loosens)",
          "µm", 0.0, 5_000.0, low_open=True, requires=_SCREW, uncertainty=(112.0, 349.0),
          distribution="uniform", bounds_note=_GUARD,
          source=f"{_PILLIAR86}; {_JASTY97}: >= 150 µm -> fibrous tissue (H); range derived "
                 f"here from the in-vivo means of {_KOHLI21}: 112 µm osseointegrated vs 349 µm "
                 "not (no universal threshold)", confidence="H"),
    Field("loosening.between", "str", "hold",
          "What the interface does while the micromotion lies between the bone and the "
          "fibrous threshold: 'hold' (neither stiffens nor loosens) or 'linear' (its target "
          "falls linearly from bonded at the bone threshold to fibrous at the fibrous one; "
          "spinesim.failure.loosening)", "", choices=("hold", "linear"), requires=_SCREW,
          source=f"modelling default 'hold', not sourced: the reference's loosening rule (built "
                 f"on {_PILLIAR86} and {_JASTY97}, confidence L) says nothing between the "
                 "thresholds; 'hold' is its literal reading, 'linear' the alternative for "
                 "sensitivity studies"),
    Field("loosening.fibrous_stiffness_fraction", "float", 0.055,
          "Stiffness of a fibrous (loosened) interface as a fraction of the bonded one", "-",
          1e-4, 1.0, requires=_SCREW, uncertainty=(0.01, 0.10),
          distribution="uniform", bounds_note=_NUMERIC_TIE,
          source=f"derived here: rule built on {_PILLIAR86} and {_JASTY97}, 1-10 % of the "
                 "bonded stiffness; default = midpoint", confidence="L"),
    Field("loosening.bonded_tie_factor", "float", 10.0,
          "Bonded interface stiffness per unit screw length as a multiple of the host "
          "bone's E", "-", 1e-3, 10_000.0, requires=_SCREW,
          bounds_note=_GUARD + "; below 1e-3 (1e-4 of the default) the screws float in the "
                               "bone numerically (1e-300: a singular matrix)",
          source="modelling default (spinesim.model.hardware.Interface.tie_factor)"),
    Field("loosening.initial_factor", "float", 1.0,
          "Interface stiffness at day 0 as a fraction of bonded (1: bonded from the start; "
          "below 1: a threaded interface that stiffens towards bonded while micromotion stays "
          "below the bone threshold, or loosens above the fibrous one; a screw counts as "
          "loosened when it has lost half of its day-0 stiffness)", "-", 1e-4, 1.0,
          requires=_SCREW, bounds_note=_NUMERIC_TIE,
          source="modelling default 1.0 (bonded): no day-0 interface stiffness is sourced; the "
                 "reference's loosening rule has the interface stiffen with osseointegration"),
    Field("loosening.loosened_factor", "float", 0.5,
          "A tied screw node counts as loosened when its interface stiffness falls below this "
          "fraction of its day-0 stiffness", "-", 0.0, 1.0, low_open=True, requires=_SCREW,
          source="modelling default 0.5 (half the day-0 stiffness lost), not sourced"),
    Field("loosening.screw_share", "float", 0.5,
          "A screw counts as loosened (insufficient support) when at least this share of its "
          "tied nodes has loosened: 0.5 is most of its thread; a screw toggling about the "
          "pedicle moves most at its tip, so a small share counts a loosened tip", "-", 0.0,
          1.0, low_open=True, requires=_SCREW,
          source="modelling default 0.5 ('most' of the thread), not sourced"),
    Field("loosening.transition_weeks", "float", 4.0,
          "Time constant (weeks) of the exponential approach of the interface stiffness "
          "to bonded or fibrous under sustained micromotion (63 % of the way after one "
          "time constant, 95 % after three)", "weeks", 0.0, 52.0, low_open=True, requires=_SCREW,
          bounds_note=_GUARD,
          source="modelling default, not sourced: as fast as the healing default (one phase "
                 "per week over the four steps granulation -> mature bone)"),
    Field("loosening.bone_shear_strength_ratio", "float", 0.44,
          "Shear over compressive yield strength of the bone at the screw threads; the "
          "predicted pullout strength is this ratio x the trabecular yield strain (0.84 %) x "
          "the modulus of each thread's bone cell x the thread's shear area (Chapman's "
          "formula)", "-", 0.0, 1.0, low_open=True, requires=_SCREW,
          uncertainty=(0.163, 0.717), distribution="uniform",
          source=f"{_SANYAL12}: 0.44 ± 0.16 (mean ± SD) over 54 human specimens, "
                 "independent of bone volume fraction (found in source, abstract; citation "
                 f"details not re-checked); yield strain 0.84 % from {_KK98}; shear-out of the "
                 f"thread from {_CHAPMAN96}. Monte Carlo: uniform with the same mean and SD "
                 "(0.44 ± √3 x 0.16)", confidence="M"),
    Field("loosening.pullout_strength_n", "float", None,
          "Axial pullout strength of every pedicle screw, given instead of predicted; a "
          "screw whose pullout load at an activity peak reaches its strength pulls out "
          "(insufficient support); unset: predicted per screw from the bone its thread "
          "holds in ('loosening.bone_shear_strength_ratio')", "N", 0.0, 20_000.0,
          low_open=True, optional=True, requires=_SCREW, bounds_note=_GUARD,
          source="modelling default: unset, the strength is predicted; a given value is the "
                 "user's (for example a measured strength). Measured pullout strengths are "
                 "validation data for the prediction, not defaults"),
    # -------------------------------------------------------------------------- fatigue
    Field("fatigue.mean_stress", "str", "goodman", "Mean-stress correction", "",
          choices=("goodman", "gerber", "soderberg"), requires=_ROD,
          source=f"{_PIOVESAN19}: use Goodman (or Sines), not the amplitude alone; found in "
                 "source (method)", confidence="M"),
    Field("fatigue.surface_factor", "float", 1.0,
          "Surface factor on the S-N amplitude capacity (1 = the smooth specimen)", "-", 0.1,
          1.0, requires=_ROD, uncertainty=(0.70, 1.0), distribution="uniform",
          bounds_note=_KNOCKDOWN,
          source=f"modelling default 1.0 (smooth curve); range derived here from {_DASILVA17}: "
                 "594 vs 850 MPa for two finishes of Ti-6Al-4V ELI (ratio 0.70)",
          confidence="L"),
    Field("fatigue.size_factor", "float", 1.0,
          "Size factor on the S-N amplitude capacity", "-", 0.1, 1.0, bounds_note=_KNOCKDOWN,
          requires=_ROD, source="modelling default 1.0: not sourced in the reference"),
    Field("fatigue.critical_damage", "float", 1.0,
          "Palmgren-Miner damage sum at which a crack is predicted", "-", 0.0, 10.0,
          low_open=True, requires=_ROD, bounds_note=_GUARD,
          source="Palmgren-Miner rule (D = 1), the damage chain recommended after "
                 f"{_PIOVESAN19}"),
    Field("fatigue.ti6al4v.endurance_mpa", "float", 600.0,
          "Ti-6Al-4V smooth fully reversed fatigue limit at 1e7 cycles", "MPa", 0.0, 2_000.0,
          low_open=True, requires=_ROD, uncertainty=(500.0, 620.0), distribution="uniform",
          bounds_note=_GUARD,
          source=f"{_NIINOMI98}: 500-620 MPa; from the literature, not re-checked",
          confidence="M"),
    Field("fatigue.ti6al4v.sigma_f_mpa", "float", 1250.0,
          "Ti-6Al-4V Basquin coefficient sigma_f'", "MPa", 0.0, 5_000.0, low_open=True,
          requires=_ROD, uncertainty=(1205.0, 1250.0), distribution="uniform",
          bounds_note=_GUARD,
          source=f"derived here: Morrow sigma_f' ~ UTS + 345 MPa (1 205 MPa with the {_F136} "
                 "minimum UTS of 860 MPa)", confidence="L"),
    Field("fatigue.cocr.endurance_mpa", "float", 600.0,
          "CoCrMo fatigue limit at 1e7 cycles (0.5 x UTS)", "MPa", 0.0, 2_000.0,
          low_open=True, requires=_ROD, bounds_note=_GUARD,
          source=f"derived here: 0.5 x UTS ({_OKAZAKI02} ratio) with UTS ~ 1 200 MPa "
                 f"({_F1537}); no range sourced", confidence="L"),
    Field("fatigue.cocr.sigma_f_mpa", "float", 1545.0, "CoCrMo Basquin coefficient sigma_f'",
          "MPa", 0.0, 5_000.0, low_open=True, requires=_ROD, bounds_note=_GUARD,
          source=f"derived here: Morrow 1 200 + 345 MPa ({_F1537}); no range sourced",
          confidence="L"),
    Field("fatigue.ss316l.endurance_mpa", "float", 430.0,
          "316L fatigue limit at 1e7 cycles (0.5 x UTS)", "MPa", 0.0, 2_000.0, low_open=True,
          requires=_ROD, bounds_note=_GUARD,
          source=f"derived here: 0.5 x UTS ({_OKAZAKI02} ratio) with UTS 860 MPa ({_F138}); "
                 "no range sourced", confidence="L"),
    Field("fatigue.ss316l.sigma_f_mpa", "float", 1205.0, "316L Basquin coefficient sigma_f'",
          "MPa", 0.0, 5_000.0, low_open=True, requires=_ROD, bounds_note=_GUARD,
          source=f"derived here: Morrow 860 + 345 MPa ({_F138}); no range sourced",
          confidence="L"),
    # -------------------------------------------------------------------------- timeline
    Field("timeline.weeks", "int", 52, "Length of the simulated healing timeline", "weeks",
          1, 520, bounds_note=_GUARD,
          source=f"project default (issue 6: 52 weeks); nonunion is defined at 12 months "
                 f"({_ISSLS})"),
    Field("timeline.soft_tissue", "bool", False,
          "Include ligaments and facet contact in the timeline model (nonlinear: every load "
          "case is solved by an active set, several times slower); off: the linear model "
          "without them, in which the hardware and graft carry all the load (conservative)",
          "", source="modelling default: off (the 30 s target of the default timeline)"),
    Field("timeline.step_weeks", "float", 1.0,
          "Time step of the timeline (healing and loosening updates)", "weeks", 0.1, 52.0,
          bounds_note=_GUARD + "; from about a day: every step re-solves the load cases",
          source=f"design note: update tissue phenotypes about weekly ({_LP02}; {_REVWIRES})"),
    Field("timeline.nonunion_horizon_weeks", "int",
          DependsOn(("timeline.weeks",), lambda w: min(52, w),
                    "52, or timeline.weeks if shorter"),
          "Nonunion if no bone bridges the endplates by this week", "weeks", 1, 520,
          requires=_GRAFT, bounds_note=_GUARD,
          source=f"{_ISSLS}: pseudarthrosis = no bony union within 12 months; found in source",
          confidence="H"),
    # -------------------------------------------------------------------------- risk, output
    Field("risk.samples", "int", 1000, "Monte Carlo samples", "samples", 1, 1_000_000,
          bounds_note=_GUARD,
          source="project default (issue 6: 1 000 samples benchmark)"),
    Field("risk.segment_strata", "int", 5,
          "Monte Carlo inputs that change the segment model (bone.cancellous_modulus_scale) "
          "are drawn from this many equiprobable strata, each at its median, so that a "
          "worker builds and condenses at most this many models; 1 = the median only", "-",
          1, 10_000,
          source="modelling default 5: a discretisation of the input's distribution (its CDF "
                 "is represented to within 1/5), set by the cost of a model (about 20-35 s at "
                 "resolution 1 with its condensation)"),
    Field("risk.seed", "int", 0, "Root seed of every random draw (numpy SeedSequence)", "-",
          0, 2**63 - 1, source="modelling default"),
    Field("risk.confidence", "float", 0.95, "Confidence level of probability intervals", "-",
          0.0, 1.0, low_open=True, high_open=True,
          source="project default (issue 6: 95 % intervals)"),
    Field("output.vtu_weeks", "int_list",
          DependsOn(("timeline.weeks",), _vtu_default,
                    "weeks 0, 6, 12, 26, 52 up to timeline.weeks, and the last week"),
          "Weeks whose fields are written as VTU files", "weeks", 0, 520, increasing=True,
          bounds_note=_GUARD, source="modelling default"),
    Field("output.plots", "bool", True, "Render the standard figures", "",
          source="project default (issue 6)"),
    Field("output.intact_reference", "bool", False,
          "Also solve the intact segment (ligaments, annulus fibres, facet contact; same "
          "levels, bone and mesh) under the protocol moment and report the timeline's ROM as "
          "a percentage of it; the timeline's fused model has no ligaments or facet contact, "
          "so the percentage errs high (adds about 2 min at the default mesh: 103 s for the "
          "default scenario on a 2-core VM)", "",
          source="modelling default: off (the nonlinear intact model costs more than the "
                 "whole timeline)"),
)

_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

#: One line on each table, for written scenario files.
SECTION_DOCS: dict[str, str] = {
    "segment": "What is modelled: the vertebrae and the construct.",
    "bone": "Vertebral bone quality.",
    "hardware.rod": "Rods (constructs with screws and rods).",
    "hardware.screw": "Pedicle screws (constructs with screws and rods).",
    "cage": "Interbody cage (constructs with a cage).",
    "graft": "Bone graft in and around the cage (constructs with a cage).",
    "activity": "Daily activity: cycles per day at baseline, ramping up after surgery.",
    "protocol": "In-vitro pure-moment protocol (ROM, construct stiffness).",
    "healing": "Graft healing: mechanoregulation rule, rate, clinical risk modifiers.",
    "loosening": "Screw-bone interface: micromotion thresholds and loosening.",
    "fatigue": "Rod and screw fatigue: mean stress, knock-down factors, S-N constants.",
    "timeline": "Healing timeline.",
    "risk": "Monte Carlo risk analysis.",
    "output": "What a run writes.",
}
#: Every table (section) name, including parents (``hardware`` and ``hardware.rod``).
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    ".".join(f.key.split(".")[:i]) for f in FIELDS for i in range(1, f.key.count(".") + 1)))


def dimension_field(key: str) -> Field:
    """The number field of one dimension override, ``segment.dimensions.L4.endplate_width_mm``
    (range and unit of the generator's dimension table), e.g. for a swept key.

    Raises
    ------
    KeyError
        ``key`` is not of that form, or names an unknown vertebra or dimension.
    """
    from spinesim.geometry.dimensions import BOUNDS

    prefix, _, rest = key.partition(".dimensions.")
    level, _, name = rest.partition(".")
    if prefix != "segment" or level.upper() not in LEVEL_NAMES or name not in BOUNDS:
        raise KeyError(key)
    lo, hi, unit = BOUNDS[name]
    return Field(key, "float", None, f"{name} of {level.upper()} (segment.dimensions)", unit,
                 lo, hi, optional=True, source="overrides the cited dimension table")


def field(key: str) -> Field:
    """The :class:`Field` of dotted ``key``; KeyError if there is none."""
    return _BY_KEY[key]


def uncertain_fields() -> tuple[Field, ...]:
    """Fields that carry a sourced uncertainty range (Monte Carlo inputs).

    Some ranges depend on other values (the rod's notch factor on its material): use
    :meth:`spinesim.scenario.Scenario.uncertain` for the ranges of one scenario.
    """
    return tuple(f for f in FIELDS if f.uncertain)


def lognormal_ci95(low: float, high: float) -> tuple[float, float]:
    """(median, sigma of ln) of a log-normal whose 95 % interval is [low, high]."""
    return math.sqrt(low * high), math.log(high / low) / (2.0 * 1.959963984540054)


def _check_table(fields: tuple[Field, ...] = FIELDS) -> None:
    """Self-consistency of the table (run by the tests, not at import)."""
    keys = [f.key for f in fields]
    assert len(keys) == len(set(keys)), "duplicate keys"
    for f in fields:
        assert f.kind in ("float", "int", "bool", "str", "levels", "path", "float_list",
                          "int_list", "activities", "dimensions"), f.key
        assert f.key not in SECTIONS, f"{f.key} is both a field and a table"
        assert f.source, f"{f.key} has no source"
        assert (f.kind == "str") == bool(f.choices), f.key
        for r in f.requires:
            assert (r.part is None) != (r.key is None), f.key
            assert r.part is None or r.part in PARTS, f.key
            assert r.key is None or r.key in _BY_KEY, f.key
        if isinstance(f.default, DependsOn):
            assert all(k in _BY_KEY and not isinstance(_BY_KEY[k].default, DependsOn)
                       for k in f.default.keys), f.key
        if f.uncertainty is not None:
            assert f.distribution in ("uniform", "lognormal_ci95"), f.key


def describe(key: str) -> Mapping[str, Any]:
    """A field's documentation as a plain dict (for reports and CLI help)."""
    f = field(key)
    default = f.default.text if isinstance(f.default, DependsOn) else f.default
    unc = f.uncertainty.text if isinstance(f.uncertainty, DependsOn) else f.uncertainty
    return {"key": f.key, "kind": f.kind, "unit": f.unit, "default": default,
            "allowed": f.allowed(), "description": f.description, "source": f.source,
            "confidence": f.confidence, "uncertainty": unc, "distribution": f.distribution}


# ------------------------------------------------------------------------------ rules
def why_not(f: Field, values: Mapping[str, Any]) -> str | None:
    """Why field ``f`` does not apply to a scenario with ``values`` (None if it does)."""
    for r in f.requires:
        if r.part is not None:
            construct = values["segment.construct"]
            if r.part not in CONSTRUCT_PARTS[construct]:
                having = [c for c, parts in CONSTRUCT_PARTS.items() if r.part in parts]
                return (f"segment.construct = {construct!r} has no {PARTS[r.part]} (it "
                        f"applies to the constructs {', '.join(having)})")
        elif r.is_set is not None:
            if (values[r.key] is not None) != r.is_set:
                return (f"{r.key} is {'not ' if r.is_set else ''}set (it applies only "
                        f"when {r.key} is {'set' if r.is_set else 'not set'})")
        elif values[r.key] not in r.values:
            allowed = " or ".join(repr(v) for v in r.values)
            return f"{r.key} = {values[r.key]!r} (it applies only with {r.key} = {allowed})"
    return None


def contradictions(v: Mapping[str, Any], given: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Contradictions between the applicable values ``v`` of a scenario: (key, message) each.

    ``given`` holds the values given explicitly (messages mark the others "(default)").
    """
    out: list[tuple[str, str]] = []

    def bad(key: str, text: str) -> None:
        out.append((key, f"contradictory options: {text}"))

    def how(key: str) -> str:
        return "" if key in given else " (default)"

    dims = v.get("segment.dimensions")
    if dims is not None:
        span = vertebrae(v["segment.levels"])
        for level, _ in dims.items:
            if level not in span:
                bad("segment.dimensions", f"segment.dimensions.{level} is given, but "
                    f"segment.levels{how('segment.levels')} = {v['segment.levels']!r} spans "
                    f"{', '.join(span)}")
    weeks, frac = v["activity.ramp_weeks"], v["activity.ramp_fraction"]
    if len(weeks) != len(frac):
        bad("activity.ramp_fraction",
            f"activity.ramp_weeks has {len(weeks)} point(s) but activity.ramp_fraction has "
            f"{len(frac)}; give one fraction per week")
    total, step = v["timeline.weeks"], v["timeline.step_weeks"]
    n_steps = total / step
    if abs(n_steps - round(n_steps)) > 1e-9 * max(1.0, n_steps):
        bad("timeline.step_weeks", f"timeline.weeks = {total}{how('timeline.weeks')} is not a "
                                   f"whole number of timeline.step_weeks = {step}")
    horizon = v.get("timeline.nonunion_horizon_weeks")
    if horizon is not None and horizon > total:
        bad("timeline.nonunion_horizon_weeks",
            f"timeline.nonunion_horizon_weeks = {horizon}{how('timeline.nonunion_horizon_weeks')}"
            f" is beyond the end of the timeline, timeline.weeks = {total}{how('timeline.weeks')}"
            f"; allowed range [1, {total}] weeks")
    if v.get("healing.prendergast.resorption") and v.get("graft.drainage") == "undrained":
        bad("healing.prendergast.resorption",
            f"healing.prendergast.resorption = true with graft.drainage = 'undrained'"
            f"{how('graft.drainage')}: resorbed tissue has no undrained constants here; use "
            "graft.drainage = 'drained'")
    late = [w for w in v["output.vtu_weeks"] if w > total]
    if late:
        bad("output.vtu_weeks", f"output.vtu_weeks = {list(v['output.vtu_weeks'])} asks for "
                                f"week(s) {late} after the end of the timeline, timeline.weeks ="
                                f" {total}{how('timeline.weeks')}; allowed range [0, {total}] "
                                "weeks")
    rho = v["bone.apparent_density_g_cm3"]
    if rho is not None and v["bone.quality"] != "healthy":
        bad("bone.apparent_density_g_cm3",
            f"bone.apparent_density_g_cm3 = {rho} and bone.quality = {v['bone.quality']!r}: give "
            "either a density or the osteoporosis switch, not both (the density already sets "
            "the cancellous modulus)")
    elif rho is not None and v["bone.density_relation"] == "kopperdahl2002" \
            and rho <= 34.7 / 3230.0:
        bad("bone.apparent_density_g_cm3",
            f"bone.apparent_density_g_cm3 = {rho} with bone.density_relation = 'kopperdahl2002' "
            "gives a modulus <= 0 (E = -34.7 + 3230 rho); allowed range (0.01074, 2] g/cm³")
    lo, hi = v.get("loosening.bone_threshold_um"), v.get("loosening.fibrous_threshold_um")
    if lo is not None and lo >= hi:
        bad("loosening.bone_threshold_um",
            f"loosening.bone_threshold_um = {lo}{how('loosening.bone_threshold_um')} must be "
            f"below loosening.fibrous_threshold_um = {hi}{how('loosening.fibrous_threshold_um')}"
            " µm")
    lo, hi = v.get("healing.claes.bone_strain"), v.get("healing.claes.cartilage_strain")
    if lo is not None and lo >= hi:
        bad("healing.claes.bone_strain",
            f"healing.claes.bone_strain = {lo} must be below healing.claes.cartilage_strain = "
            f"{hi}")
    core, outer = v.get("hardware.screw.core_diameter_mm"), v.get("hardware.screw.diameter_mm")
    if core is not None and core >= outer:
        bad("hardware.screw.core_diameter_mm",
            f"hardware.screw.core_diameter_mm = {core} must be below hardware.screw.diameter_mm "
            f"= {outer}{how('hardware.screw.diameter_mm')} mm (thread root inside the crest)")
    count = v.get("hardware.screw.count")
    if count is not None:
        expected = screw_count(v)
        construct = v["segment.construct"]
        sides = "2 per vertebra" if construct.startswith("bilateral") else "1 per vertebra"
        if count != expected:
            bad("hardware.screw.count",
                f"hardware.screw.count = {count} but segment.construct = {construct!r} with "
                f"segment.levels = {v['segment.levels']!r} has {expected} screws ({sides})")
    if v.get("healing.modifiers.age_years") is not None \
            and v.get("healing.modifiers.reference_age_years") is None:
        bad("healing.modifiers.reference_age_years",
            f"healing.modifiers.age_years = {v['healing.modifiers.age_years']} needs "
            "healing.modifiers.reference_age_years (the age at which the odds ratio is 1; no "
            "sourced value, so no default)")
    for mat in ("ti6al4v", "cocr", "ss316l"):
        se, sf = v.get(f"fatigue.{mat}.endurance_mpa"), v.get(f"fatigue.{mat}.sigma_f_mpa")
        if se is not None and se >= sf:
            bad(f"fatigue.{mat}.endurance_mpa",
                f"fatigue.{mat}.endurance_mpa = {se} must be below fatigue.{mat}.sigma_f_mpa = "
                f"{sf} MPa (the S-N curve falls to its endurance limit)")
    return out


def vertebrae(levels: str) -> tuple[str, ...]:
    """Vertebrae of a level range such as ``"L4-L5"``, cranial first (no checks)."""
    upper, lower = levels.split("-")
    return LEVEL_NAMES[LEVEL_NAMES.index(upper):LEVEL_NAMES.index(lower) + 1]


def screw_count(v: Mapping[str, Any]) -> int:
    """Number of pedicle screws of the construct of the resolved values ``v``: one or two
    (bilateral) per vertebra, 0 without screws."""
    if "screws" not in CONSTRUCT_PARTS[v["segment.construct"]]:
        return 0
    per = 2 if v["segment.construct"].startswith("bilateral") else 1
    return per * len(vertebrae(v["segment.levels"]))
