"""Region materials of a motion segment: library values, bone quality, cage, errors."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import MaterialError
from spinesim.mesh.generate import box
from spinesim.mesh.mesh import CellBlock, Mesh
from spinesim.model.segment_materials import REGIONS, cell_moduli, region_materials


def test_every_region_has_a_cited_library_value():
    mats = region_materials()
    assert set(mats) == set(REGIONS)
    assert (mats["cortical"].E_mpa, mats["cancellous"].E_mpa) == (12_000.0, 100.0)
    assert mats["cage"].E_mpa == 3_600.0 and mats["nucleus"].nu == 0.499
    assert all(m.source.strip() for m in mats.values())


def test_osteoporosis_softens_cortical_and_cancellous_only():
    h, o = region_materials(), region_materials(bone_quality="osteoporotic")
    assert o["cortical"].E_mpa == pytest.approx(0.67 * h["cortical"].E_mpa)
    assert o["cancellous"].E_mpa == pytest.approx(0.34 * h["cancellous"].E_mpa)
    for r in ("endplate", "posterior", "annulus", "nucleus", "cage", "graft"):
        assert o[r] == h[r]


def test_titanium_cage_and_density_driven_cancellous():
    assert region_materials(cage_material="titanium")["cage"].E_mpa == 110_000.0
    m = region_materials(rho_app_g_cm3=0.2)["cancellous"]
    assert m.E_mpa == pytest.approx(4730 * 0.2**1.56)
    with pytest.raises(MaterialError, match="allowed: peek, titanium"):
        region_materials(cage_material="carbon")


def test_density_relation_and_patient_factor_set_the_cancellous_modulus():
    # kopperdahl2002: E = -34.7 + 3230 rho = 611.3 MPa at 0.2 g/cm3 (morgan2003: 384 MPa)
    k = region_materials(rho_app_g_cm3=0.2, density_relation="kopperdahl2002")
    assert k["cancellous"].E_mpa == pytest.approx(611.3)
    half = region_materials(cancellous_scale=0.5)
    assert half["cancellous"].E_mpa == pytest.approx(50.0)
    assert "bone.cancellous_modulus_scale" in half["cancellous"].source
    porotic = region_materials(bone_quality="osteoporotic", cancellous_scale=0.5)
    assert porotic["cancellous"].E_mpa == pytest.approx(0.5 * 0.34 * 100.0)
    assert porotic["cortical"].E_mpa == pytest.approx(0.67 * 12000.0)
    for r in REGIONS:
        if r != "cancellous":
            assert half[r] == region_materials()[r]
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(MaterialError, match="cancellous_scale"):
            region_materials(cancellous_scale=bad)


def test_posterior_factor_scales_the_posterior_elements_only():
    """bone.posterior_modulus_scale multiplies the homogenized 3500 MPa of the posterior
    elements and no other region; bone quality does not scale them (no sourced factor)."""
    third = region_materials(posterior_scale=0.34)
    assert third["posterior"].E_mpa == pytest.approx(0.34 * 3500.0)
    assert "bone.posterior_modulus_scale" in third["posterior"].source
    for r in REGIONS:
        if r != "posterior":
            assert third[r] == region_materials()[r]
    porotic = region_materials(bone_quality="osteoporotic")
    assert porotic["posterior"] == region_materials()["posterior"]
    both = region_materials(bone_quality="osteoporotic", cancellous_scale=2.0,
                            posterior_scale=0.5)
    assert (both["cancellous"].E_mpa, both["posterior"].E_mpa) == pytest.approx((68.0, 1750.0))
    for bad in (0.0, -0.5, float("inf"), "soft", None):
        with pytest.raises(MaterialError, match="posterior_scale"):
            region_materials(posterior_scale=bad)


def test_the_timeline_segment_uses_the_scenario_density_relation():
    """bone.density_relation reaches the segment (it was read but not used before)."""
    from spinesim.scenario import Scenario
    from spinesim.simulate import segment_options

    s = Scenario.default().with_values({"bone.apparent_density_g_cm3": 0.2,
                                        "bone.density_relation": "kopperdahl2002",
                                        "bone.cancellous_modulus_scale": 1.5})
    opts = segment_options(s)
    assert (opts.rho_app_g_cm3, opts.density_relation, opts.cancellous_scale) == \
        (0.2, "kopperdahl2002", 1.5)
    assert segment_options(Scenario.default()).density_relation == "morgan2003"
    assert segment_options(Scenario.default()).posterior_scale == 1.0
    assert segment_options(Scenario.default().with_values(
        {"bone.posterior_modulus_scale": 0.34})).posterior_scale == 0.34
    m = region_materials(rho_app_g_cm3=opts.rho_app_g_cm3,
                         density_relation=opts.density_relation,
                         cancellous_scale=opts.cancellous_scale)
    assert m["cancellous"].E_mpa == pytest.approx(1.5 * 611.3)


def test_cell_moduli_follow_the_tags_and_unknown_regions_are_named():
    base = box((2.0, 1.0, 1.0), (2, 1, 1), "hexahedron")
    cells = base.blocks[0].cells
    mesh = Mesh(base.points, (CellBlock("hexahedron", cells, np.array([1, 2])),),
                {1: "cortical", 2: "nucleus"})
    E, nu = cell_moduli(mesh, region_materials())
    assert E.tolist() == [12_000.0, 1.0] and nu.tolist() == [0.3, 0.499]
    bad = Mesh(base.points, (CellBlock("hexahedron", cells, np.array([1, 3])),),
               {1: "cortical", 3: "muscle"})
    with pytest.raises(MaterialError, match=r"region tag 3 \('muscle'\) has no material"):
        cell_moduli(bad, region_materials())
