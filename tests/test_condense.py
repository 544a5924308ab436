"""Static condensation onto the graft and screw-interface DOFs (spinesim.fem.condense) against
the full solve: exact to round-off over the whole range of graft moduli and interface scales,
and the condensed timeline equals the refactorizing one."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.errors import SpinesimError
from spinesim.fem.condense import CondensedModel
from spinesim.model.hardware import hardware_results, interface_values, tie_scales
from spinesim.model.segment import build_segment, case_loads
from spinesim.model.activity import activity_spectrum
from spinesim.scenario import Scenario
from spinesim.simulate import run_timeline, segment_options

RES = 0.3


@pytest.fixture(scope="module")
def setup():
    sc = Scenario.default()
    seg = build_segment(segment_options(sc, RES))
    graft = np.flatnonzero(seg.geometry.mesh.cells_in_region("graft"))
    loads = [case_loads(seg, a.load_case()) for a in activity_spectrum(sc).active()]
    hw = seg.hardware
    hosts = np.unique(np.concatenate([t["host"].ravel() for t in hw.ties.values()]))
    seg.model.update(E=seg.E, nu=seg.nu)
    cond = CondensedModel(seg.model, graft, seg.E[graft], seg.nu[graft], sets=list(hw.ties),
                          load_nodes=[seg.model.layout.n_extra - 1], output_nodes=hosts)
    return seg, graft, loads, cond


def _full_solve(seg, graft, E_g, nu_g, factor, loads, check=None):
    """The model's own solve of ``loads`` at graft moduli ``E_g``, ``nu_g`` and interface
    factors ``factor`` (``check()`` runs while it holds that state), then the model back at
    the reference state (built graft, bonded interfaces)."""
    hw, model = seg.hardware, seg.model
    E, nu = seg.E.copy(), seg.nu.copy()
    E[graft], nu[graft] = E_g, nu_g
    model.update(E=E, nu=nu, **interface_values(hw, factor))
    try:
        ref = model.solve_many(loads)
        if check is not None:
            check()
    finally:
        model.update(E=seg.E, nu=seg.nu, **interface_values(hw, np.ones(len(factor))))
    return ref


@pytest.mark.parametrize("graft_E, scale", [(0.2, 1.0), (6000.0, 1.0), ("mixed", 0.05),
                                            (1000.0, 2.0)])
@pytest.mark.parametrize("form", ["cholesky", "capacitance"])
def test_condensed_solve_equals_the_full_solve(setup, graft_E, scale, form, monkeypatch):
    seg, graft, loads, cond = setup
    assert cond._S0 is not None  # W is positive definite: the symmetric form is available
    if form == "capacitance":  # the fallback (W not positive definite, or round-off)
        monkeypatch.setattr(cond, "_S0", None)
    hw = seg.hardware
    rng = np.random.default_rng(7)
    if graft_E == "mixed":  # every tissue phase somewhere in the graft
        E_g = rng.uniform(0.2, 6000.0, len(graft))
        nu_g = rng.uniform(0.167, 0.3, len(graft))
    else:
        E_g = np.full(len(graft), graft_E)
        nu_g = np.full(len(graft), 0.3 if graft_E > 100 else 0.167)
    n_tied = sum(len(t["node"]) for t in hw.ties.values())
    factor = np.full(n_tied, scale)
    factor[::3] *= 0.5  # uneven loosening
    got = cond.solve_many(E_g, nu_g, tie_scales(hw, factor), loads)
    ref = _full_solve(seg, graft, E_g, nu_g, factor, loads)
    graft_nodes = np.unique(np.concatenate([b.cells for b in cond._cell_asm.mesh.solid_blocks]))
    for a, b in zip(got, ref):
        assert np.allclose(a.node_dofs, b.node_dofs, rtol=1e-8,
                           atol=1e-9 * np.abs(b.node_dofs).max())
        scale_u = np.abs(b.displacement[graft_nodes]).max()
        assert np.abs(a.displacement[graft_nodes] - b.displacement[graft_nodes]).max() \
            <= 1e-8 * scale_u
        (sa, ta), (sb, tb) = hardware_results(hw, a), hardware_results(hw, b)
        for part in ("rod_beams", "screw_beams"):
            ref_s = sb[part].sigma_at_max
            assert np.abs(sa[part].sigma_at_max - ref_s).max() <= 1e-8 * np.abs(ref_s).max()
        assert np.allclose(ta.micromotion_um, tb.micromotion_um, rtol=1e-8,
                           atol=1e-8 * tb.micromotion_um.max())


def test_full_displacements_equal_the_full_solve_and_need_the_reference_factorization(setup):
    """x = A0^-1 (b - U D y) with the reference factorization gives the whole field (VTU
    output of a condensed timeline); once the model is refilled it refuses."""
    seg, graft, loads, cond = setup
    hw, model = seg.hardware, seg.model
    n_tied = sum(len(t["node"]) for t in hw.ties.values())
    model.update(E=seg.E, nu=seg.nu, **interface_values(hw, np.ones(n_tied)))  # reference
    cond.reference_revision = model.revision
    rng = np.random.default_rng(3)
    E_g, nu_g = rng.uniform(0.2, 6000.0, len(graft)), rng.uniform(0.167, 0.3, len(graft))
    factor = rng.uniform(0.05, 1.0, n_tied)
    got = cond.full_displacements(E_g, nu_g, tie_scales(hw, factor), loads)

    def refuses():  # the model now holds another state
        with pytest.raises(ValueError, match="refilled after it was condensed"):
            cond.full_displacements(E_g, nu_g, tie_scales(hw, factor), loads)

    ref = _full_solve(seg, graft, E_g, nu_g, factor, loads, refuses)
    assert len(got) == len(loads)
    for a, b in zip(got, ref):
        assert a.shape == b.displacement.shape
        assert np.abs(a - b.displacement).max() <= 1e-8 * np.abs(b.displacement).max()


def test_condensed_model_rejects_bad_input(setup):
    seg, graft, loads, cond = setup
    with pytest.raises(ValueError, match="one value per changing cell"):
        cond.solve_many(np.ones(3), np.ones(3), {}, loads)
    bad = np.zeros_like(loads[0])
    bad[0, 0] = 1.0  # a beam node, not the reference node
    with pytest.raises(ValueError, match="not condensed as load nodes"):
        cond.solve_many(seg.E[graft], seg.nu[graft], {}, [bad])
    name = next(iter(seg.hardware.ties))
    with pytest.raises(ValueError, match=f"scales\\['{name}'\\]"):
        cond.solve_many(seg.E[graft], seg.nu[graft], {name: [1.0, 2.0]}, loads)


def _assert_same_run(got, ref):
    """The same timeline (to 1e-7), verdicts and VTU fields (displacement to 1e-8 of its
    largest value, von Mises to 1e-7)."""
    a, b = ref.timeline, got.timeline[ref.timeline.columns]
    np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-7, atol=1e-12)
    assert got.verdicts == ref.verdicts
    assert sorted(got.fields) == sorted(ref.fields)
    for week, f in ref.fields.items():
        u, u_ref = got.fields[week]["displacement_mm"], f["displacement_mm"]
        assert np.abs(u - u_ref).max() <= 1e-8 * np.abs(u_ref).max(), week
        vm = got.fields[week]["von_mises_mpa"]
        assert np.abs(vm - f["von_mises_mpa"]).max() <= 1e-7 * f["von_mises_mpa"].max(), week


@pytest.mark.parametrize("values", [{}, {"loosening.initial_factor": 0.3,
                                         "activity.lifting.per_day": 20.0},
                                    {"graft.drainage": "undrained"}])  # nu near 0.5
def test_condensed_timeline_equals_the_refactorizing_one(values):
    sc = Scenario.default().with_values(values)
    direct = run_timeline(sc, weeks=8, resolution=RES, fields=False, condense=False)
    cond = run_timeline(sc, weeks=8, resolution=RES, fields=False)  # condensed by default
    assert cond.info["condensed"] and not direct.info["condensed"]
    assert direct.info["factorizations"] > 1 and cond.info["factorizations"] == 0
    if "loosening.initial_factor" in values:  # the day-0 interface stiffens week by week
        f = cond.timeline.filter(like="interface_factor_")
        assert f.iloc[0].max() < f.iloc[-1].min()
    _assert_same_run(cond, direct)


def test_condense_needs_the_linear_model():
    soft = Scenario.default().with_values({"timeline.soft_tissue": True})
    with pytest.raises(SpinesimError, match="linear model"):
        run_timeline(soft, weeks=1, resolution=RES, fields=False, condense=True)


def test_a_condensed_run_writes_the_same_fields():
    """VTU weeks of a condensed run: the whole field by one solve with the condensation's
    factorization, equal to the refactorizing run's."""
    sc = Scenario.default().with_values({"activity.lifting.per_day": 20.0})
    ref = run_timeline(sc, weeks=8, resolution=RES, condense=False)
    got = run_timeline(sc, weeks=8, resolution=RES, condense=True)
    assert got.info["condensed"] and got.info["condensed_from_week"] == 0.0
    assert sorted(ref.fields) == [0.0, 6.0]
    _assert_same_run(got, ref)


def test_a_run_whose_interfaces_keep_changing_condenses_on_its_way():
    """A day-0 interface at 30 % of bonded stiffens every week to the end; the graft stops
    changing when it has healed. After CONDENSE_AFTER_FACTORIZATIONS refactorizations the
    run condenses at the first week that changes the interfaces only, with the same results
    (timeline and VTU fields) as refactorizing every week."""
    import spinesim.timeline_model as simulate

    sc = Scenario.default().with_values({"loosening.initial_factor": 0.3})
    ref = run_timeline(sc, weeks=14, resolution=RES, condense=False)
    got = run_timeline(sc, weeks=14, resolution=RES)
    n = simulate.CONDENSE_AFTER_FACTORIZATIONS
    assert ref.info["factorizations"] == 14 and not ref.info["condensed"]
    assert got.info["condensed"] and got.info["factorizations"] == n
    assert got.info["condensed_from_week"] == n  # weeks 0 .. n-1 refactorized
    assert 12.0 in got.fields  # a VTU week after the switch: the full field by one solve
    _assert_same_run(got, ref)
    # a run that changes in fewer weeks never condenses (the default: its graft, 5 weeks)
    default = run_timeline(Scenario.default(), weeks=14, resolution=RES)
    assert not default.info["condensed"] and default.info["factorizations"] < n


def test_shared_case_condenses_from_the_first_case_with_the_same_outcomes():
    """The sweep and Monte Carlo case function for cases that share a model condenses the
    first timeline on a new segment already (run_case refactorizes it and condenses from the
    second case on); the outcomes are the same."""
    import spinesim.timeline_model as simulate
    from spinesim.outcomes import run_case, run_shared_case

    sc = Scenario.default().with_values({"segment.resolution": RES, "timeline.weeks": 8,
                                         "activity.lifting.per_day": 20.0})
    params = sc.to_dict()
    simulate._LAST_BUILT.clear()
    simulate._CONDENSED.clear()
    first = run_case(params)
    assert not simulate._CONDENSED  # a new segment, refactorized
    simulate._LAST_BUILT.clear()
    simulate._CONDENSED.clear()
    shared = run_shared_case(params)
    assert len(simulate._CONDENSED) == 1  # condensed on its first case
    assert shared.keys() == first.keys()
    for key, value in first.items():
        if isinstance(value, float):
            assert shared[key] == pytest.approx(value, rel=1e-7, abs=1e-12), key
        else:
            assert shared[key] == value, key
    # with soft tissue the model is not linear: refactorized, not an error
    soft = sc.with_values({"timeline.soft_tissue": True, "timeline.weeks": 1}).to_dict()
    assert run_shared_case(soft)["hardware_fatigue_fails"] is False


def test_sweep_and_monte_carlo_cases_skip_the_intact_reference(monkeypatch):
    """No outcome reads the intact reference, so a case function must not solve it (about 2
    min a case at the default mesh, for nothing) even when the scenario asks for it; the
    outcomes are those of the same scenario without it."""
    import spinesim.simulate as sim
    from spinesim.outcomes import run_case, run_shared_case

    def refuse(*args, **kwargs):
        raise AssertionError("the intact reference was solved for a sweep case")

    sc = Scenario.default().with_values({"segment.resolution": RES, "timeline.weeks": 2})
    plain = run_case(sc.to_dict())
    monkeypatch.setattr(sim, "intact_rom", refuse)
    asked = sc.with_values({"output.intact_reference": True}).to_dict()
    for fn in (run_case, run_shared_case):
        out = fn(asked)
        assert out.keys() == plain.keys()
        for key, value in plain.items():
            assert out[key] == (pytest.approx(value, rel=1e-7, abs=1e-12)
                                if isinstance(value, float) else value), key
