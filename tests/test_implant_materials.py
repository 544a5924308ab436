"""Implant materials library: names, units, sources, ranges and errors."""

from __future__ import annotations

import dataclasses

import pytest

from spinesim.errors import MaterialError
from spinesim.model.implant_materials import IMPLANT_MATERIALS, ImplantMaterial, implant_material

NAMES = ["cocr", "peek", "ss316l", "ti6al4v"]


def test_library_holds_exactly_the_four_implant_materials():
    assert sorted(IMPLANT_MATERIALS) == NAMES
    for name in NAMES:
        assert implant_material(name).name == name


def test_lookup_ignores_case_and_spaces():
    assert implant_material(" Ti6Al4V ") is implant_material("ti6al4v")


@pytest.mark.parametrize("name", NAMES)
def test_moduli_are_in_mpa(name):
    m = implant_material(name)
    # MPa: polymers are GPa-order (1e3-1e4 MPa), implant alloys 1e5-3e5 MPa
    lo, hi = (1e3, 1e4) if name == "peek" else (1e5, 3e5)
    assert lo <= m.E_mpa <= hi


@pytest.mark.parametrize("name", NAMES)
def test_strengths_are_in_mpa_and_yield_below_uts(name):
    m = implant_material(name)
    for v in (m.yield_mpa, m.uts_mpa):
        assert v is None or 100.0 <= v <= 2000.0
    if m.yield_mpa is not None and m.uts_mpa is not None:
        assert m.yield_mpa <= m.uts_mpa


@pytest.mark.parametrize("name", NAMES)
def test_every_material_cites_a_source(name):
    m = implant_material(name)
    assert m.source.strip()
    assert "doi" in m.source or "ASTM" in m.source


def test_reference_values_are_carried_unchanged():
    ti = implant_material("ti6al4v")
    assert (ti.E_mpa, ti.nu, ti.yield_mpa, ti.uts_mpa) == (110_000.0, 0.3, 795.0, 860.0)
    cocr = implant_material("cocr")
    assert cocr.E_range_mpa == (210_000.0, 240_000.0)
    assert (cocr.yield_mpa, cocr.uts_mpa) == (827.0, 1172.0)
    ss = implant_material("ss316l")
    assert ss.E_range_mpa == (193_000.0, 200_000.0)
    assert (ss.yield_mpa, ss.uts_mpa) == (690.0, 860.0)
    assert implant_material("peek").E_mpa == 3_600.0


@pytest.mark.parametrize("name", ["cocr", "ss316l"])
def test_nominal_modulus_is_the_midpoint_of_the_range(name):
    m = implant_material(name)
    assert m.E_mpa == pytest.approx(0.5 * sum(m.E_range_mpa))
    assert "midpoint" in m.note


def test_unsourced_values_are_none_not_invented():
    assert implant_material("ss316l").nu is None
    peek = implant_material("peek")
    assert peek.yield_mpa is None and peek.uts_mpa is None


def test_unknown_name_raises_with_the_allowed_names():
    with pytest.raises(MaterialError, match="unknown implant material 'nitinol'") as err:
        implant_material("nitinol")
    for name in NAMES:
        assert name in str(err.value)


def test_materials_are_frozen_and_validated():
    m = implant_material("peek")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.E_mpa = 1.0  # type: ignore[misc]
    with pytest.raises(MaterialError, match="E_range_mpa"):
        ImplantMaterial("x", 5.0, 0.3, None, None, "src", (10.0, 20.0))
    with pytest.raises(MaterialError, match="nu"):
        ImplantMaterial("x", 5.0, 0.7, None, None, "src")
    with pytest.raises(MaterialError, match="source"):
        ImplantMaterial("x", 5.0, 0.3, None, None, " ")
