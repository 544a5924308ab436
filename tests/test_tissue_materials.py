"""Tissue materials library: sources, reference values, bone quality, density relations, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spinesim.errors import MaterialError
from spinesim.fem.materials import Isotropic, TransverselyIsotropic
from spinesim.model.implant_materials import implant_material
from spinesim.model.tissue_materials import (
    MAX_APPARENT_DENSITY_G_CM3,
    OSTEOPOROSIS_FACTORS,
    TISSUE_MATERIALS,
    TissueMaterial,
    cancellous_modulus_from_density,
    osteoporotic,
    tissue_material,
    transversely_isotropic_cancellous,
    vertebral_bone,
)

NAMES = sorted(TISSUE_MATERIALS)
REQUIRED = ["cortical_shell", "cancellous_core", "bony_endplate", "cartilage_endplate",
            "posterior_elements", "annulus_ground", "nucleus", "graft_day0", "cage_peek"]


def test_library_holds_every_required_tissue():
    assert set(REQUIRED) <= set(NAMES)
    for name in NAMES:
        assert tissue_material(name).name == name


def test_lookup_ignores_case_and_spaces():
    assert tissue_material(" Cortical_Shell ") is tissue_material("cortical_shell")


@pytest.mark.parametrize("name", NAMES)
def test_every_material_has_source_provenance_grade_and_positive_modulus(name):
    m = tissue_material(name)
    assert m.source.strip() and m.provenance.strip()
    assert m.confidence in ("H", "M", "L", "–")
    assert m.E_mpa > 0 and -1 < m.nu < 0.5
    if m.E_range_mpa is not None:
        assert m.E_range_mpa[0] <= m.E_mpa <= m.E_range_mpa[1]
    if m.nu_range is not None:
        assert m.nu_range[0] <= m.nu <= m.nu_range[1]


@pytest.mark.parametrize("name", NAMES)
def test_derived_values_are_flagged_ungraded_parameters(name):
    m = tissue_material(name)
    if m.provenance.startswith("derived here"):
        assert m.confidence == "–"


def test_reference_values_are_carried_unchanged():
    expect = {"cortical_shell": (12_000.0, 0.3), "cancellous_core": (100.0, 0.2),
              "posterior_elements": (3_500.0, 0.25), "bony_endplate": (1_000.0, 0.4),
              "cartilage_endplate": (25.0, 0.25), "annulus_ground": (4.2, 0.45),
              "nucleus": (1.0, 0.499), "graft_day0": (0.2, 0.167)}
    for name, (E, nu) in expect.items():
        m = tissue_material(name)
        assert (m.E_mpa, m.nu) == (E, nu), name
    assert tissue_material("cortical_shell").thickness_mm == 0.4
    assert tissue_material("bony_endplate").thickness_mm == 0.25
    assert tissue_material("cartilage_endplate").E_range_mpa == (24.0, 25.0)
    assert tissue_material("cartilage_endplate").nu_range == (0.25, 0.4)
    assert tissue_material("graft_day0").E_range_mpa == (0.2, 1.0)


def test_sources_name_the_papers():
    assert "PMC3726285" in tissue_material("cortical_shell").source
    assert "10.1186/s13018-021-02237-4" in tissue_material("bony_endplate").source
    assert "10.1016/S0021-9290(02)00086-6" in tissue_material("graft_day0").source


def test_peek_cage_reuses_the_implant_library_value():
    peek = implant_material("peek")
    cage = tissue_material("cage_peek")
    assert (cage.E_mpa, cage.nu) == (peek.E_mpa, peek.nu)
    assert peek.source in cage.source


def test_materials_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        tissue_material("nucleus").E_mpa = 2.0  # type: ignore[misc]


def test_unknown_name_lists_the_allowed_names():
    with pytest.raises(MaterialError, match="unknown tissue material 'bone'") as exc:
        tissue_material("bone")
    for name in NAMES:
        assert name in str(exc.value)


def test_invalid_material_is_rejected_with_the_key():
    with pytest.raises(MaterialError, match="E_mpa must be finite and > 0"):
        TissueMaterial("x", 0.0, 0.3, source="s", provenance="p", confidence="H")
    with pytest.raises(MaterialError, match="nu must be in"):
        TissueMaterial("x", 1.0, 0.5, source="s", provenance="p", confidence="H")
    with pytest.raises(MaterialError, match="needs a source"):
        TissueMaterial("x", 1.0, 0.3, source=" ", provenance="p", confidence="H")
    with pytest.raises(MaterialError, match="confidence"):
        TissueMaterial("x", 1.0, 0.3, source="s", provenance="p", confidence="high")


def test_with_modulus_stays_inside_the_sourced_range():
    assert tissue_material("graft_day0").with_modulus(1.0).E_mpa == 1.0
    with pytest.raises(MaterialError, match=r"outside the sourced range \(0.2, 1.0\)"):
        tissue_material("graft_day0").with_modulus(2.0)


def test_fe_law_carries_the_constants():
    law = tissue_material("annulus_ground").fe(3)
    assert isinstance(law, Isotropic)
    np.testing.assert_array_equal(law.E, [4.2] * 3)
    np.testing.assert_array_equal(law.nu, [0.45] * 3)


# ------------------------------------------------------------------------- bone quality
def test_osteoporosis_factors_reproduce_8040_and_34_mpa():
    assert OSTEOPOROSIS_FACTORS == {"cortical_shell": 0.67, "cancellous_core": 0.34}
    cort, canc = osteoporotic("cortical_shell"), osteoporotic(tissue_material("cancellous_core"))
    assert cort.E_mpa == pytest.approx(8040.0, rel=1e-12)
    assert canc.E_mpa == pytest.approx(34.0, rel=1e-12)
    assert (cort.nu, canc.nu) == (0.3, 0.2)
    assert "10.1038/s41598-025-03377-x" in cort.source and "Polikeit" in cort.source
    bone = vertebral_bone("osteoporotic")
    assert bone["cortical_shell"].E_mpa == pytest.approx(8040.0)
    assert bone["cancellous_core"].E_mpa == pytest.approx(34.0)


@pytest.mark.parametrize("name", ["posterior_elements", "bony_endplate", "nucleus"])
def test_osteoporosis_refuses_unsourced_tissues(name):
    with pytest.raises(MaterialError, match=f"no sourced osteoporotic scaling for '{name}'"):
        osteoporotic(name)


def test_healthy_bone_is_the_library_default():
    bone = vertebral_bone()
    assert bone["cortical_shell"] is tissue_material("cortical_shell")
    assert bone["cancellous_core"] is tissue_material("cancellous_core")


def test_t_score_is_refused_because_no_sourced_mapping_exists():
    with pytest.raises(MaterialError, match="no sourced mapping from a T-score") as exc:
        vertebral_bone(t_score=-2.5)
    assert "osteoporotic" in str(exc.value) and "rho_app_g_cm3" in str(exc.value)


def test_density_and_osteoporosis_switch_are_exclusive():
    with pytest.raises(MaterialError, match="either a density or the osteoporosis switch"):
        vertebral_bone("osteoporotic", rho_app_g_cm3=0.2)
    with pytest.raises(MaterialError, match="unknown bone quality 'weak'; allowed: healthy"):
        vertebral_bone("weak")


def test_density_sets_the_cancellous_core():
    core = vertebral_bone(rho_app_g_cm3=0.2)["cancellous_core"]
    assert core.E_mpa == pytest.approx(4730.0 * 0.2 ** 1.56)
    assert core.nu == 0.2 and "Morgan" in core.source and core.confidence == "H"
    core = vertebral_bone(rho_app_g_cm3=0.2, relation="kopperdahl2002")["cancellous_core"]
    assert core.E_mpa == pytest.approx(-34.7 + 3230.0 * 0.2) and core.confidence == "M"


# -------------------------------------------------------------- density-modulus relations
def test_morgan_relation_equals_the_formula():
    assert cancellous_modulus_from_density(0.2) == pytest.approx(4730.0 * 0.2 ** 1.56, rel=1e-14)
    assert isinstance(cancellous_modulus_from_density(0.2), float)


def test_kopperdahl_relation_equals_the_formula():
    E = cancellous_modulus_from_density(0.15, relation="Kopperdahl2002")
    assert E == pytest.approx(-34.7 + 3230.0 * 0.15, rel=1e-14)


def test_density_relations_are_vectorised_and_keep_the_shape():
    rho = np.array([[0.1, 0.2], [0.3, 0.4]])
    E = cancellous_modulus_from_density(rho)
    assert E.shape == rho.shape
    np.testing.assert_allclose(E, 4730.0 * rho ** 1.56, rtol=1e-14)
    assert np.all(np.diff(E.ravel()) > 0)


@pytest.mark.parametrize("rho", [0.0, -0.1, np.nan, np.inf])
def test_non_positive_or_non_finite_density_is_rejected(rho):
    with pytest.raises(MaterialError, match=r"rho_app_g_cm3 must be finite and in \(0, 2.0\]"):
        cancellous_modulus_from_density(rho)


def test_density_in_the_wrong_unit_gets_a_hint():
    with pytest.raises(MaterialError, match="look like mg/cm3 or kg/m3: divide by 1000"):
        cancellous_modulus_from_density([0.2, 250.0])
    assert MAX_APPARENT_DENSITY_G_CM3 == 2.0
    assert cancellous_modulus_from_density(2.0) > 0


def test_kopperdahl_rejects_densities_that_give_non_positive_modulus():
    with pytest.raises(MaterialError, match="0.01074"):
        cancellous_modulus_from_density(0.01, relation="kopperdahl2002")


def test_array_errors_list_the_bad_values():
    with pytest.raises(MaterialError, match="got -1, 0") as exc:
        cancellous_modulus_from_density([0.2, -1.0, 0.0, 0.3])
    assert "0.2" not in str(exc.value).split("got")[1]


def test_unknown_relation_lists_the_allowed_relations():
    with pytest.raises(MaterialError, match="allowed: kopperdahl2002, morgan2003"):
        cancellous_modulus_from_density(0.2, relation="carter1977")


# ------------------------------------------------------------------ transverse isotropy
def test_transversely_isotropic_cancellous_takes_only_user_constants():
    with pytest.raises(TypeError):
        transversely_isotropic_cancellous(E_axial=400.0, axis=(0, 0, 1), n_cells=2)  # type: ignore[call-arg]
    E_ax = cancellous_modulus_from_density([0.15, 0.25])
    law = transversely_isotropic_cancellous(
        E_axial=E_ax, E_transverse=0.4 * E_ax, nu_transverse=0.3, nu_axial=0.2,
        G_axial=0.3 * E_ax, axis=(0, 0, 1), n_cells=2)
    assert isinstance(law, TransverselyIsotropic)
    np.testing.assert_allclose(law.E_axial, E_ax)
