"""Scenarios: what to simulate, loaded from TOML, validated once, immutable.

A scenario file holds only what differs from the embedded default (fused L4-L5, PEEK cage with
graft, bilateral 5.5 mm Ti-6Al-4V rods, healthy bone, typical activity, 52 weeks); every key,
its unit, range and source is in :mod:`spinesim.scenario_schema`, and
``examples/scenarios/default.toml`` is the default written out with those comments.

>>> s = Scenario.default()
>>> s.get("hardware.rod.diameter_mm")
5.5
>>> s.replace(**{"hardware.rod.diameter_mm": 6}).get("hardware.rod.diameter_mm")
6.0
>>> Scenario.from_dict({"timeline": {"week": 26}})
Traceback (most recent call last):
...
spinesim.scenario.ScenarioError: <dict>: unknown key 'timeline.week'; did you mean 'timeline.weeks'?

Validation rules: unknown keys are errors naming the closest valid key; values are checked for
type (an integer is accepted for a number, an integral number for an integer), finiteness,
range (with the unit) and choices (case-insensitive); options that contradict each other are
errors (a cage section for an intact spine, a nonunion horizon after the end of the timeline,
a screw count that the construct does not have, ...). A field that does not apply to the
construct (the cage of an intact spine) is absent from the resolved scenario, and giving it
explicitly is an error. ``None`` means "not given" everywhere (TOML has no null).
"""

from __future__ import annotations

import difflib
import logging
import os
import textwrap
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from spinesim.atomic import atomic_path
from spinesim.errors import SpinesimError
from spinesim.scenario_schema import (_EXPECTED, ACTIVITIES, CONSTRUCT_PARTS, FIELDS,
                                      SECTION_DOCS, SECTIONS, ActivityEntry, DependsOn,
                                      DimensionOverrides, Field,
                                      FieldValueError, _kind_of,
                                      _show, check, contradictions, field, screw_count,
                                      vertebrae, why_not)
from spinesim.toml_file import read_toml

__all__ = ["Scenario", "ScenarioError"]

logger = logging.getLogger(__name__)

_BY_KEY = {f.key: f for f in FIELDS}
_ORDER = {f.key: i for i, f in enumerate(FIELDS)}
#: Names people are likely to type, for "did you mean" only (never accepted).
_ALIASES = {"activity.steps_per_day": "activity.walking.per_day",
            "activity.bends_per_day": "activity.bending.per_day",
            "activity.full_flexions_per_day": "activity.full_flexion.per_day",
            "timeline.nonunion_weeks": "timeline.nonunion_horizon_weeks",
            "risk.n_samples": "risk.samples", "bone.density": "bone.apparent_density_g_cm3",
            "segment.level": "segment.levels", "hardware.rod.diameter": "hardware.rod.diameter_mm"}


class ScenarioError(SpinesimError):
    """A scenario is invalid: unknown key, wrong type, out of range, contradictory options,
    unreadable or malformed file.

    Attributes
    ----------
    source : str
        File (or ``<dict>``) the scenario came from.
    problems : tuple of (str, str)
        (dotted key or "", message) of every problem found.
    """

    def __init__(self, message: str, *, source: str = "",
                 problems: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.source = source
        self.problems = tuple(problems)


def _raise(source: str, problems: list[tuple[str, str]]) -> None:
    if len(problems) == 1:
        msg = f"{source}: {problems[0][1]}"
    else:
        msg = f"{source}: {len(problems)} problems:\n" + "\n".join(f"  - {m}"
                                                                 for _, m in problems)
    raise ScenarioError(msg, source=source, problems=problems)


# ------------------------------------------------------------------------------ flatten
def _suggest(key: str) -> str:
    """'; did you mean ...?' (the closest valid key), else the valid keys of the table; for an
    unknown table under [activity], also where a new activity goes."""
    parts = key.split(".")
    closest = _closest(key)
    if parts[0] == "activity" and len(parts) >= 2 and parts[1] not in ACTIVITIES \
            and f"activity.{parts[1]}" not in _BY_KEY and "'activity.custom'" not in closest:
        return (closest + f"; or, for a new activity, a [[activity.custom]] table with "
                f"name = {parts[1]!r}, its loads and cycles per day")
    return closest


def _closest(key: str) -> str:
    if key in _ALIASES:
        return f"; did you mean {_ALIASES[key]!r}?"
    parent, _, name = key.rpartition(".")
    close: list[str] = []
    if parent in SECTIONS or not parent:
        prefix = f"{parent}." if parent else ""
        siblings = _children(parent)
        elsewhere = [k for k in _BY_KEY if k.rpartition(".")[2] == name]
        for cutoff in (0.8, None, 0.6):  # a near sibling, the same name elsewhere, a sibling
            if cutoff is None:
                close = elsewhere[:1] if len(elsewhere) == 1 else []
            else:
                close = [prefix + c for c in
                         difflib.get_close_matches(name, siblings, n=1, cutoff=cutoff)]
            if close:
                break
    if not close:
        close = difflib.get_close_matches(key, [*_BY_KEY, *SECTIONS], n=1, cutoff=0.8 if
                                          parent in SECTIONS else 0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    while parent and parent not in SECTIONS:
        parent = parent.rpartition(".")[0]
    where = f"in [{parent}]" if parent else "at the top level"
    return f"; valid keys {where}: {', '.join(_children(parent))}"


def _children(section: str) -> list[str]:
    prefix = f"{section}." if section else ""
    out = []
    for name in (*_BY_KEY, *SECTIONS):
        if name.startswith(prefix):
            child = name[len(prefix):].split(".")[0]
            if child not in out:
                out.append(child)
    return out


class _Patch(dict):
    """Part of a table-valued field given by deeper dotted keys
    (``segment.dimensions.L4.endplate_width_mm``): merged into the field's current value by
    :meth:`Scenario.with_values`, not replacing it."""


def _merge(base: Mapping, patch: Mapping) -> dict:
    """``base`` with ``patch`` merged in, table by table."""
    out = dict(base)
    for k, v in patch.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) \
            else v
    return out


def _without(value: Any, path: list[str]) -> Any:
    """A table-valued field's value without the entry at ``path`` (None if nothing is left)."""
    table = value.as_dict() if hasattr(value, "as_dict") else dict(value)
    head, rest = path[0], path[1:]
    if head in table:
        if rest and isinstance(table[head], Mapping):
            inner = _without(table[head], rest)
            table = {**table, head: inner} if inner else \
                {k: v for k, v in table.items() if k != head}
        elif not rest:
            table = {k: v for k, v in table.items() if k != head}
    return table or None


def _table_field(key: str) -> str | None:
    """The table-valued field (kind ``dimensions``) that a deeper dotted key lies in."""
    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        f = _BY_KEY.get(".".join(parts[:i]))
        if f is not None:
            return f.key if f.kind == "dimensions" else None
    return None


def _flatten(data: Mapping, problems: list[tuple[str, str]]) -> dict[str, Any]:
    """Dotted key -> raw value of every field in ``data`` (nested tables or dotted keys; a
    deeper dotted key of a table-valued field gives a :class:`_Patch`)."""
    flat: dict[str, Any] = {}

    def walk(table: Mapping, prefix: str) -> None:
        for name, value in table.items():
            if not isinstance(name, str):
                problems.append((prefix, f"key {name!r} in [{prefix or 'top level'}] is not "
                                         "a string"))
                continue
            key = f"{prefix}.{name}" if prefix else name
            if key in _BY_KEY:
                f = _BY_KEY[key]
                if isinstance(value, Mapping) and f.kind != "dimensions":
                    problems.append((key, f"{key} has the wrong type: expected "
                                          f"{_EXPECTED[f.kind]}, got a table"))
                elif isinstance(flat.get(key), _Patch) and isinstance(value, Mapping):
                    flat[key] = _merge(value, flat[key])    # a whole table, then patched
                elif key in flat:
                    problems.append((key, f"{key} is given twice"))
                elif value is not None:
                    flat[key] = value
            elif key in SECTIONS:
                if isinstance(value, Mapping):
                    walk(value, key)
                elif value is not None:
                    problems.append((key, f"{key} = {_show(value)} has the wrong type: "
                                          f"expected a table with keys "
                                          f"{', '.join(_children(key))}, got {_kind_of(value)}"))
            elif (table := _table_field(key)) is not None:
                if value is None:
                    continue
                patch: Any = value
                for part in reversed(key[len(table) + 1:].split(".")):
                    patch = {part: patch}
                current = flat.get(table)
                if current is None or isinstance(current, _Patch):
                    flat[table] = _Patch(patch if current is None else _merge(current, patch))
                elif isinstance(current, Mapping):        # the whole table given too
                    flat[table] = _merge(current, patch)
            else:
                problems.append((key, f"unknown key {_show(key)}{_suggest(key)}"))

    walk(data, "")
    return flat


# ------------------------------------------------------------------------------ resolve
def _resolve_all(given: Mapping[str, Any]) -> dict[str, Any]:
    """Values of every field, applicable or not, defaults filled in (schema order)."""
    values: dict[str, Any] = {}
    for f in FIELDS:
        if not isinstance(f.default, DependsOn):
            default = tuple(f.default) if isinstance(f.default, list) else f.default
            values[f.key] = given.get(f.key, default)
    for f in FIELDS:
        if isinstance(f.default, DependsOn):
            values[f.key] = given[f.key] if f.key in given else \
                check(f, f.default.rule(*(values[k] for k in f.default.keys)))
    return {f.key: values[f.key] for f in FIELDS}


def _resolve(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Applicable values (defaults filled in) and why each other field does not apply."""
    values = _resolve_all(given)
    inapplicable = {}
    for f in FIELDS:
        reason = why_not(f, values)
        if reason is not None:
            inapplicable[f.key] = reason
    return {k: v for k, v in values.items() if k not in inapplicable}, inapplicable


def _validate(data: Mapping, source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(given, values) of a raw mapping; raise ScenarioError with every problem found."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source}: a scenario must be a table (mapping) of sections, got "
                            f"{_kind_of(data)}", source=source)
    problems: list[tuple[str, str]] = []
    raw = _flatten(data, problems)
    given: dict[str, Any] = {}
    for key in sorted(raw, key=_ORDER.__getitem__):  # schema order
        try:
            given[key] = check(_BY_KEY[key], raw[key])
        except FieldValueError as exc:
            problems.append((key, str(exc)))
    if problems:
        _raise(source, problems)
    values, inapplicable = _resolve(given)
    by_reason: dict[str, list[str]] = {}
    for key in given:
        if key in inapplicable:
            by_reason.setdefault(inapplicable[key], []).append(key)
    for reason, keys in by_reason.items():
        verb = "is" if len(keys) == 1 else "are"
        problems.append((keys[0], f"contradictory options: {', '.join(keys)} {verb} given, but "
                                  f"{reason}"))
    if not problems:
        problems = contradictions(values, given)
    if problems:
        _raise(source, problems)
    return given, values


# ------------------------------------------------------------------------------ TOML
def _toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest round-tripping form; finite (validated)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (ActivityEntry, DimensionOverrides)):
        value = value.as_dict()
    if isinstance(value, Mapping):  # an inline table
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=98, initial_indent="# ", subsequent_indent="#   ",
                         break_on_hyphens=False) or ["#"]


def _field_comments(f: Field, scenario: Scenario) -> list[str]:
    default = f.default.text if isinstance(f.default, DependsOn) else \
        ("unset" if f.default is None else _toml_value(f.default))
    note = f" ({f.bounds_note})" if f.bounds_note else ""
    lines = _comment(f.description)
    lines += _comment(f"{f.allowed()}{note} · default: {default}")
    conf = f" (confidence {f.confidence})" if f.confidence else ""
    lines += _comment(f"source: {f.source}{conf}")
    unc = scenario.uncertain().get(f.key)
    if unc is not None:
        lines += _comment(f"uncertain (Monte Carlo): {unc[0]} {_toml_value(list(unc[1]))}")
    return lines


_HEADER = """\
spinesim scenario. Units: mm, N, MPa; moments in N·m, micromotion in µm, time in weeks.
Every key is optional: a value left out takes the default of spinesim.scenario_schema.
Sources of defaults are cited next to each key (confidence H use as is, M check the primary
paper, L order of magnitude); 'modelling default' marks a value that no source gives."""


# ------------------------------------------------------------------------------ Scenario
class Scenario:
    """An immutable, validated scenario.

    Build one with :meth:`default`, :meth:`from_toml` or :meth:`from_dict`; derive new ones
    with :meth:`with_values` / :meth:`replace`. Two scenarios are equal when their resolved
    values are (whether a value was given or defaulted does not matter).

    Attributes
    ----------
    source : str
        The file it was read from, or ``<dict>``.
    base_dir : pathlib.Path or None
        Folder of the source file: relative paths in the scenario are relative to it.
    """

    __slots__ = ("_given", "_values", "_source", "_base_dir")

    def __init__(self) -> None:
        raise TypeError("use Scenario.default(), Scenario.from_toml() or Scenario.from_dict()")

    @classmethod
    def _make(cls, given: dict[str, Any], values: dict[str, Any], source: str,
              base_dir: Path | None) -> Scenario:
        self = object.__new__(cls)
        for name, value in (("_given", given), ("_values", values), ("_source", source),
                            ("_base_dir", base_dir)):
            object.__setattr__(self, name, value)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Scenario is immutable; use with_values() or replace()")

    def __reduce__(self) -> tuple:
        return (_rebuild, (self._given, self._values, self._source, self._base_dir))

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def default(cls) -> Scenario:
        """The embedded default scenario (every field at its default)."""
        return cls.from_dict({}, source="<default>")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>", *,
                  base_dir: str | os.PathLike | None = None) -> Scenario:
        """Validate a mapping: nested tables (``{"hardware": {"rod": {...}}}``) and/or dotted
        keys (``{"hardware.rod.diameter_mm": 6.0}``).

        Parameters
        ----------
        data : Mapping
            Values in the units of the schema; numpy scalars are accepted; None = not given.
        source : str
            Named in error messages (a file name, ``<dict>``).
        base_dir : path, optional
            Folder that relative paths in the scenario are relative to.

        Raises
        ------
        ScenarioError
            Listing every problem: unknown keys (with the closest valid key), wrong types,
            values out of range (with unit) or not among the choices, contradictions.
        """
        given, values = _validate(data, source)
        return cls._make(given, values, source, None if base_dir is None else Path(base_dir))

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Scenario:
        """Read and validate a TOML scenario file.

        Raises
        ------
        ScenarioError
            File missing, not a regular file, too large or unreadable, not UTF-8, a TOML
            syntax error (with line and column; :func:`spinesim.toml_file.read_toml`), or any
            validation problem (see :meth:`from_dict`).
        """
        path = Path(path)
        data = read_toml(path, "scenario file", partial(ScenarioError, source=str(path)))
        scenario = cls.from_dict(data, source=str(path), base_dir=path.resolve().parent)
        logger.debug("scenario read from %s (%d keys given)", path, len(scenario._given))
        return scenario

    # -- access ------------------------------------------------------------------------
    @property
    def source(self) -> str:
        """Where the scenario came from (a file name, ``<dict>``), as named in messages."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        """Folder that relative paths in the scenario are relative to (None: not set)."""
        return self._base_dir

    def get(self, key: str) -> Any:
        """The value of dotted ``key`` (lists as tuples), or a table as a nested dict.

        Raises
        ------
        ScenarioError
            Unknown key (naming the closest valid one), or a field that does not apply to
            this scenario (the cage of an intact spine).
        """
        if key in self._values:
            return self._values[key]
        if key in _BY_KEY:
            reason = why_not(_BY_KEY[key], self._all_values())
            raise ScenarioError(f"{self._source}: {key} does not apply to this scenario: "
                                f"{reason}", source=self._source, problems=[(key, reason)])
        if key in SECTIONS:
            return _nest({k: v for k, v in self._values.items() if k.startswith(key + ".")},
                         strip=key)
        table = _table_field(key)
        if table is not None:  # inside a table-valued field: segment.dimensions.L4.<key>
            value: Any = self.get(table)
            for part in key[len(table) + 1:].split("."):
                value = value.as_dict() if hasattr(value, "as_dict") else value
                if not isinstance(value, Mapping) or part not in value:
                    reason = f"{key} is not set in {table}"
                    raise ScenarioError(f"{self._source}: {reason}", source=self._source,
                                        problems=[(key, reason)])
                value = value[part]
            return value
        raise ScenarioError(f"{self._source}: unknown key {key!r}{_suggest(key)}",
                            source=self._source)

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def is_given(self, key: str) -> bool:
        """True if field ``key`` was given (in the file, dict or :meth:`with_values`), False
        if it holds its default."""
        field(key)  # KeyError for an unknown key
        return key in self._given

    def applies(self, key: str) -> bool:
        """True if field ``key`` applies to this scenario (is in :meth:`resolved`)."""
        field(key)  # KeyError for an unknown key
        return key in self._values

    def path(self, key: str = "segment.mesh") -> Path | None:
        """A path field resolved against :attr:`base_dir` (None if unset)."""
        value = self.get(key)
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() or self._base_dir is None else self._base_dir / p

    def _all_values(self) -> dict[str, Any]:
        return _resolve_all(self._given)

    @property
    def vertebrae(self) -> tuple[str, ...]:
        """Vertebrae of the model, cranial first: ``("L4", "L5")``."""
        return vertebrae(self._values["segment.levels"])

    @property
    def parts(self) -> frozenset[str]:
        """Parts of the construct: subset of {"screws", "rods", "cage", "graft"}."""
        return CONSTRUCT_PARTS[self._values["segment.construct"]]

    @property
    def screw_count(self) -> int:
        """Number of pedicle screws of the construct (0 without screws)."""
        return screw_count(self._values)

    def uncertain(self) -> dict[str, tuple[str, tuple[float, float]]]:
        """Monte Carlo inputs of this scenario: key -> (distribution, (low, high)).

        Only fields that apply and whose range is sourced (for the rod's notch factor, it
        depends on the rod material). See :mod:`spinesim.scenario_schema` for the
        distributions.
        """
        out = {}
        for f in FIELDS:
            if f.key not in self._values or f.uncertainty is None:
                continue
            unc = f.uncertainty
            if isinstance(unc, DependsOn):
                unc = unc.rule(*(self._values[k] for k in unc.keys))
            if unc is not None:
                out[f.key] = (f.distribution, (float(unc[0]), float(unc[1])))
        return out

    # -- derive ------------------------------------------------------------------------
    def with_values(self, values: Mapping[str, Any], *, source: str | None = None,
                    drop_inapplicable: bool = False) -> Scenario:
        """A new validated scenario with ``values`` (dotted keys or nested tables) changed.

        A value of None resets the key to its default; a deeper key of ``segment.dimensions``
        (``segment.dimensions.L4.endplate_width_mm``) merges into that table, and None there
        drops the entry. With ``drop_inapplicable`` the given
        values that no longer apply (the cage section after a change to ``intact``) are
        dropped instead of raising.

        Raises
        ------
        ScenarioError
            As :meth:`from_dict`; messages name ``source`` (default: this scenario's source
            followed by ``(modified)``).
        """
        source = f"{self._source} (modified)" if source is None else source
        problems: list[tuple[str, str]] = []
        if not isinstance(values, Mapping):
            raise ScenarioError(f"{source}: values must be a mapping of dotted keys, got "
                                f"{_kind_of(values)}", source=source)
        updates = _flatten(values, problems)
        resets = {k for k in _flatten_none(values) if k in _BY_KEY}
        if problems:
            _raise(source, problems)
        merged = {k: v for k, v in self._given.items() if k not in resets}
        for k, v in updates.items():  # a patch of a table-valued field merges into it
            old = merged.get(k)
            if isinstance(v, _Patch) and hasattr(old, "as_dict"):
                v = _merge(old.as_dict(), v)
            merged[k] = v
        for k in _flatten_none(values):  # None inside a table-valued field drops that entry
            table = _table_field(k)
            if table is not None and table in merged:
                merged[table] = _without(merged[table], k[len(table) + 1:].split("."))
        if drop_inapplicable:
            while True:
                coerced = {}
                for k, v in merged.items():
                    try:
                        coerced[k] = check(_BY_KEY[k], v)
                    except FieldValueError:
                        coerced[k] = v
                try:
                    _, inapplicable = _resolve(coerced)
                except Exception:  # invalid values: let _validate report them
                    break
                drop = [k for k in merged if k in inapplicable]
                if not drop:
                    break
                logger.info("%s: dropped %s (%s)", source, ", ".join(drop),
                            inapplicable[drop[0]])
                for k in drop:
                    del merged[k]
        given, resolved = _validate(merged, source)
        return type(self)._make(given, resolved, self._source, self._base_dir)

    def replace(self, **values: Any) -> Scenario:
        """:meth:`with_values` with keyword arguments: ``s.replace(**{"timeline.weeks": 26})``
        or ``s.replace(timeline={"weeks": 26})``."""
        return self.with_values(values)

    # -- export ------------------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        """Every applicable field with defaults filled in, as nested plain dicts (lists, not
        tuples; unset optional fields as None): the parameters to hash with
        :func:`spinesim.store.case_key`."""
        return _nest(self._values)

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        """Nested plain dict: :meth:`resolved` (``full``), or only the values given."""
        return self.resolved() if full else _nest(self._given)

    def case_key(self, version: str | None = None) -> str:
        """:func:`spinesim.store.case_key` of :meth:`resolved`."""
        from spinesim.store import case_key

        return case_key(self.resolved(), version)

    def toml_text(self, *, full: bool = True, comments: bool = False) -> str:
        """The scenario as TOML text (see :meth:`to_toml`)."""
        keys = self._values if full else self._given
        sections: dict[str, list[Field]] = {}
        for f in FIELDS:
            if f.key in keys and (keys[f.key] is not None or comments):
                sections.setdefault(f.section, []).append(f)
        lines = [*(f"# {line}" if line else "#" for line in _HEADER.splitlines()), ""] \
            if comments else []
        for section, fields in sections.items():
            if comments and section in SECTION_DOCS:
                lines += _comment(SECTION_DOCS[section])
            lines.append(f"[{section}]")
            for f in fields:
                value = keys[f.key]
                if comments:
                    lines += _field_comments(f, self)
                if value is None:
                    lines.append(f"# {f.name} =   (unset)")
                elif isinstance(f.default, DependsOn) and f.key not in self._given:
                    # a dependent default stays dependent when the file is read back
                    lines.append(f"# {f.name} = {_toml_value(value)}   (default, follows "
                                 f"{', '.join(f.default.keys)})")
                else:
                    lines.append(f"{f.name} = {_toml_value(value)}")
                if comments:
                    lines.append("")
            if not comments:
                lines.append("")
        return "\n".join(lines).rstrip("\n") + "\n"

    def to_toml(self, path: str | os.PathLike, *, full: bool = True,
                comments: bool = False) -> Path:
        """Write the scenario as TOML, atomically (a temporary file renamed into place).

        Parameters
        ----------
        path : path
            Target file; its folder is created if missing.
        full : bool
            Write every applicable value (True), or only the values given (False). Defaults
            that follow other values (the rod's notch factor follows its material, the
            nonunion horizon the timeline) are written as comments unless they were given, so
            that they keep following when the file is read back and edited.
        comments : bool
            Document every key (description, unit, allowed values, default, source).

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ScenarioError
            If the file cannot be written; no partial or temporary file is left behind.
        """
        path = Path(path)
        text = self.toml_text(full=full, comments=comments)
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot write scenario file: "
                                f"{exc.strerror or exc}", source=str(path)) from exc
        return path

    # -- dunder ------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        v = self._values
        return (f"Scenario({v['segment.levels']} {v['segment.construct']}, "
                f"{len(self._given)} value(s) given, source={self._source!r})")


def _rebuild(given: dict, values: dict, source: str, base_dir: Path | None) -> Scenario:
    return Scenario._make(given, values, source, base_dir)


def _flatten_none(data: Mapping, prefix: str = "") -> list[str]:
    """Dotted keys whose value is None (resets in with_values)."""
    out = []
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if value is None:
            out.append(key)
        elif isinstance(value, Mapping):
            out += _flatten_none(value, key)
    return out


def _nest(flat: Mapping[str, Any], strip: str = "") -> dict[str, Any]:
    """Nested plain dict of dotted keys, in schema order (tuples as lists)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key[len(strip) + 1:].split(".") if strip else key.split(".")
        table = out
        for p in parts[:-1]:
            table = table.setdefault(p, {})
        if isinstance(value, DimensionOverrides):
            value = value.as_dict()
        table[parts[-1]] = [v.as_dict() if isinstance(v, ActivityEntry) else v
                            for v in value] if isinstance(value, tuple) else value
    return out
