"""Name lookup shared by the materials libraries."""

from __future__ import annotations

from typing import Mapping, TypeVar

from spinesim.errors import MaterialError

T = TypeVar("T")


def lookup(table: Mapping[str, T], name: str, kind: str) -> T:
    """``table[name]`` by case-insensitive name; MaterialError lists the allowed names."""
    key = str(name).strip().lower()
    try:
        return table[key]
    except KeyError:
        raise MaterialError(
            f"unknown {kind} {name!r}; allowed: {', '.join(sorted(table))}") from None
