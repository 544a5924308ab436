"""Implant materials library: names, units, sources, ranges and errors."""

from __future__ import annotations

import dataclasses

import pytest

from spinesim.errors import MaterialError
from spinesim.model.implant_materials import IMPLANT_MATERIALS, ImplantMaterial, implant_material

NAMES = ["cocr", "peek", "ss316l", "ti6al4v", "uhmwpe"]
POLYMERS = ("peek", "uhmwpe")


def test_library_holds_the_implant_alloys_peek_and_the_f1717_block_polymer():
    assert sorted(IMPLANT_MATERIALS) == NAMES
    for name in NAMES:
        assert implant_material(name).name == name


def test_lookup_ignores_case_and_spaces():
    assert implant_material(" Ti6Al4V ") is implant_material("ti6al4v")


@pytest.mark.parametrize("name", NAMES)
def test_moduli_are_in_mpa(name):
    m = implant_material(name)
    # MPa: these polymers are 0.5-5 GPa (5e2-5e3 MPa), implant alloys 1e5-3e5 MPa
    lo, hi = (5e2, 5e3) if name in POLYMERS else (1e5, 3e5)
    assert lo <= m.E_mpa <= hi


@pytest.mark.parametrize("name", NAMES)
def test_strengths_are_in_mpa_and_yield_below_uts(name):
    m = implant_material(name)
    lo = 10.0 if name in POLYMERS else 100.0  # polymers: tens of MPa, alloys: hundreds
    for v in (m.yield_mpa, m.uts_mpa):
        assert v is None or lo <= v <= 2000.0
    if m.yield_mpa is not None and m.uts_mpa is not None:
        assert m.yield_mpa <= m.uts_mpa


@pytest.mark.parametrize("name", NAMES)
def test_every_material_cites_a_source(name):
    m = implant_material(name)
    assert m.source.strip()
    # a paper with its DOI, a standard, or a book with edition and table
    assert "doi" in m.source or "ASTM" in m.source or ("ed.," in m.source and "Table" in m.source)


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


def test_values_found_outside_the_reference_collection_carry_their_source():
    ss = implant_material("ss316l")
    assert ss.nu == 0.283 and "Dowling" in ss.source and "Table 5.2" in ss.source
    peek = implant_material("peek")
    assert peek.uts_mpa == 96.4 and peek.yield_mpa == 96.4
    assert "10.1007/s42452-019-1385-4" in peek.source
    pe = implant_material("uhmwpe")
    assert (pe.E_mpa, pe.nu) == (690.0, 0.42) and "Callister" in pe.source


def test_unsourced_values_are_none_not_invented():
    pe = implant_material("uhmwpe")
    assert pe.yield_mpa is None and pe.uts_mpa is None


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
