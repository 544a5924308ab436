"""Healing: stimuli, mechanoregulation thresholds, averaging, rate limit, and bony bridging."""

from __future__ import annotations

import numpy as np
import pytest

from spinesim.failure.bridging import (
    bridging,
    ct_grade,
    face_adjacency,
    fusion_topology,
    graft_topology,
)
from spinesim.failure.healing import (
    ClaesHeigele,
    Phase,
    PrendergastLacroix,
    StrainWindow,
    averaged_stimulus,
    classify,
    hydrostatic_pressure,
    initial_state,
    octahedral_shear_strain,
    perren,
    prendergast_stimulus,
    resorption_window_share,
    step,
    tissue_properties,
    volume_quantile,
)
from spinesim.mesh.generate import grid

EPS = 1e-9
P = Phase


def _rotation(seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q


def _strain_with_octahedral_shear(gamma: float) -> np.ndarray:
    """Tensor shear eps_xy = g/2 gives gamma_oct = sqrt(2/3) g (engineering shear g)."""
    g = gamma / np.sqrt(2.0 / 3.0)
    e = np.zeros((3, 3))
    e[0, 1] = e[1, 0] = g / 2
    return e


# ------------------------------------------------------------------------------ stimuli
def test_octahedral_shear_strain_matches_hand_values():
    uni = np.diag([0.03, 0.0, 0.0])                       # 2/3 sqrt(0.03^2 + 0 + 0.03^2)
    shear = np.zeros((3, 3))
    shear[0, 1] = shear[1, 0] = 0.01                      # principal 0.01, 0, -0.01
    got = octahedral_shear_strain(np.stack([uni, shear, 0.02 * np.eye(3)]))
    np.testing.assert_allclose(got, [2 / 3 * np.sqrt(2) * 0.03,
                                     2 / 3 * np.sqrt(1e-4 + 1e-4 + 4e-4), 0.0], atol=1e-15)


def test_octahedral_shear_strain_is_rotation_invariant():
    e = np.array([[0.01, 0.002, -0.003], [0.002, -0.004, 0.001], [-0.003, 0.001, 0.006]])
    R = _rotation()
    assert octahedral_shear_strain(R @ e @ R.T) == pytest.approx(octahedral_shear_strain(e))


def test_prendergast_stimulus_adds_shear_and_fluid_terms():
    e = _strain_with_octahedral_shear(0.0375)             # gamma = a -> shear term 1
    assert prendergast_stimulus(e, 0.0) == pytest.approx(1.0)
    assert prendergast_stimulus(e, 0.003) == pytest.approx(2.0)   # v = b -> fluid term 1
    assert prendergast_stimulus(e, -0.003) == pytest.approx(2.0)  # magnitude


def test_volume_quantile_is_the_weighted_median_and_ignores_element_splitting():
    rng = np.random.default_rng(3)
    v = rng.uniform(0, 0.05, 101)
    assert volume_quantile(v, np.ones(101), 0.5) == np.median(v)  # odd count, equal volumes
    assert volume_quantile(v, np.ones(101), 0.0) == v.min()
    assert volume_quantile(v, np.ones(101), 1.0) == v.max()
    w = rng.uniform(0.5, 2.0, 101)
    q = volume_quantile(v, w, 0.5)
    assert w[v <= q].sum() >= 0.5 * w.sum() > w[v < q].sum()
    # splitting an element into two halves of the same value leaves every quantile unchanged
    split = np.argmax(w)
    v2 = np.r_[v, v[split]]
    w2 = np.r_[w, 0.5 * w[split]]
    w2[split] *= 0.5
    for p in (0.1, 0.5, 0.9):
        assert volume_quantile(v2, w2, p) == volume_quantile(v, w, p)


@pytest.mark.parametrize("args, match", [
    (([0.1, 0.2], [1.0], 0.5), "one volume per value"),
    (([0.1], [1.0], 1.5), "allowed range"),
    (([np.nan], [1.0], 0.5), "finite"),
    (([0.1], [0.0], 0.5), "volumes > 0"),
])
def test_volume_quantile_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        volume_quantile(*args)


def test_hydrostatic_pressure_is_positive_in_compression():
    assert hydrostatic_pressure(-0.3 * np.eye(3)) == pytest.approx(0.3)


# ------------------------------------------------------------------------------ thresholds
def test_prendergast_windows_at_their_bounds():
    S = np.array([3 + EPS, 3, 1 + EPS, 1, 0.267 + EPS, 0.267, 0.01 + EPS, 0.01, 0.0])
    want = [P.FIBROUS, P.CARTILAGE, P.CARTILAGE, P.IMMATURE_BONE, P.IMMATURE_BONE,
            P.MATURE_BONE, P.MATURE_BONE, P.RESORPTION, P.RESORPTION]
    assert classify(S, PrendergastLacroix(resorption=True)).tolist() == want
    # resorption off (default): S <= 0.01 stays mature bone
    assert classify(S[-2:], PrendergastLacroix()).tolist() == [P.MATURE_BONE] * 2


def test_claes_heigele_thresholds_at_their_bounds():
    s = np.array([[0.05 - EPS, 0.0],           # small strain, no pressure: bone
                  [0.05, 0.0],                 # strain on the bone bound: connective
                  [0.01, 0.15 - EPS],          # bone
                  [0.01, -(0.15 - EPS)],       # tension below the bound: bone
                  [0.01, 0.15],                # pressure on the bound: neither bone nor endo
                  [0.01, 0.15 + EPS],          # compressive pressure: endochondral
                  [0.15 - EPS, 0.5],           # endochondral
                  [0.15, 0.5],                 # strain on the cartilage bound: connective
                  [0.01, -0.5]])               # tensile pressure: connective
    want = [P.MATURE_BONE, P.FIBROUS, P.MATURE_BONE, P.MATURE_BONE, P.FIBROUS, P.CARTILAGE,
            P.CARTILAGE, P.FIBROUS, P.FIBROUS]
    assert classify(s, ClaesHeigele()).tolist() == want


def test_claes_heigele_needs_pressure():
    rule = ClaesHeigele()
    with pytest.raises(ValueError, match="pressure"):
        step(initial_state(1, rule, n_average=1), np.zeros((1, 3, 3)), 0.0, rule, 1.0)


def test_perren_windows_at_their_bounds():
    x = np.array([0.02 - EPS, 0.02, 0.10 - EPS, 0.10, 1.0 - EPS, 1.0, 2.0])
    want = [P.MATURE_BONE, P.CARTILAGE, P.CARTILAGE, P.GRANULATION, P.GRANULATION,
            P.GRANULATION, P.GRANULATION]
    assert classify(x, perren()).tolist() == want


def test_strain_window_rejects_mismatched_phases():
    with pytest.raises(ValueError, match="phases"):
        StrainWindow((0.01, 0.02), (P.FIBROUS,))


# ------------------------------------------------------------------------------ dynamics
def test_rate_limit_moves_one_phase_per_week():
    rule = PrendergastLacroix()
    s = initial_state(4, rule, n_average=1)
    zero = np.zeros((4, 3, 3))                          # S = 0 -> target mature bone
    levels = []
    for _ in range(6):
        s = step(s, zero, 0.0, rule, dt_weeks=1.0)
        levels.append(s.level[0])
    assert levels == [1.0, 2.0, 3.0, 4.0, 4.0, 4.0]
    assert s.time_weeks == 6.0
    # and back down, one rung per week, under a fibrous stimulus
    s = step(s, np.repeat(_strain_with_octahedral_shear(0.2)[None], 4, 0), 0.0, rule, 1.0)
    assert s.phase.tolist() == [P.IMMATURE_BONE] * 4


def test_half_week_gives_half_a_rung_and_a_mixed_modulus():
    rule = PrendergastLacroix()
    s = step(initial_state(1, rule, n_average=1), np.zeros((1, 3, 3)), 0.0, rule, 0.5)
    assert s.level[0] == pytest.approx(0.5)
    E, nu = tissue_properties(s.level)
    assert E[0] == pytest.approx(0.5 * (0.2 + 2.0))        # granulation/fibrous mixture
    assert nu[0] == pytest.approx(0.167)
    E, _ = tissue_properties([0, 1, 2, 3, 4], granulation_E_mpa=1.0)
    np.testing.assert_allclose(E, [1.0, 2.0, 10.0, 1000.0, 6000.0])


def test_undrained_phases_keep_their_shear_modulus():
    from spinesim.failure.graft_drainage import POROELASTIC, undrained_poisson

    levels = [int(p) for p in POROELASTIC]
    E, nu = tissue_properties(levels, granulation_E_mpa=1.0)
    Eu, nuu = tissue_properties(levels, granulation_E_mpa=1.0, undrained=True)
    np.testing.assert_allclose(nuu, [undrained_poisson(p, E[i])
                                     for i, p in enumerate(POROELASTIC)])
    np.testing.assert_allclose(Eu / (2 * (1 + nuu)), E / (2 * (1 + nu)))  # G unchanged
    assert np.all(nuu > nu) and nuu[0] == pytest.approx(0.4999, abs=1e-4)


def test_resorbed_modulus_has_no_default():
    with pytest.raises(ValueError, match="resorption_E_mpa"):
        tissue_properties([4.5])
    E, _ = tissue_properties([4.5], resorption_E_mpa=2.0, resorption_nu=0.167)
    assert E[0] == pytest.approx(3001.0)


def test_resorption_window_share_is_the_volume_below_the_lowest_bound_of_the_averaged_S():
    rule = PrendergastLacroix()
    # S = 0.005, exactly 0.01 (the bound goes to the lower window), 0.011 and 0.5
    strain = np.stack([_strain_with_octahedral_shear(s * 0.0375)
                       for s in (0.005, 0.01, 0.011, 0.5)])
    volume = np.array([1.0, 2.0, 4.0, 8.0])
    state = initial_state(4, rule, n_average=2)
    assert resorption_window_share(state, rule, volume) is None  # no stimulus yet
    state = step(state, strain, 0.0, rule, 1.0)
    assert resorption_window_share(state, rule, volume) == pytest.approx(3.0 / 15.0)
    # averaged as the rule classifies: after a second, tiny stimulus the two-iteration means
    # are 0.00255, 0.00505, 0.00555 and 0.25005, three of them in the window
    tiny = np.stack([_strain_with_octahedral_shear(1e-4 * 0.0375)] * 4)
    state = step(state, tiny, 0.0, rule, 1.0)
    assert resorption_window_share(state, rule, volume) == pytest.approx(7.0 / 15.0)
    # the window is what the rule would resorb, with resorption on
    on = PrendergastLacroix(resorption=True)
    target = classify(averaged_stimulus(state.history, state.n_filled), on)
    assert (target == P.RESORPTION).tolist() == [True, True, True, False]
    assert resorption_window_share(state, ClaesHeigele(), volume) is None
    assert resorption_window_share(state, perren(), volume) is None
    with pytest.raises(ValueError, match="one value > 0 per graft element"):
        resorption_window_share(state, rule, volume[:3])
    with pytest.raises(ValueError, match="one value > 0 per graft element"):
        resorption_window_share(state, rule, [1.0, 0.0, 1.0, 1.0])


def test_stimulus_is_averaged_over_the_last_k_iterations():
    rule = PrendergastLacroix()
    high = np.repeat(_strain_with_octahedral_shear(5 * 0.0375)[None], 2, 0)   # S = 5
    low = np.repeat(_strain_with_octahedral_shear(0.1 * 0.0375)[None], 2, 0)  # S = 0.1
    s3 = initial_state(2, rule, n_average=3)
    s1 = initial_state(2, rule, n_average=1)
    for strain in (high, high, low):
        s3 = step(s3, strain, 0.0, rule, 1.0)
        s1 = step(s1, strain, 0.0, rule, 1.0)
    assert averaged_stimulus(s3.history, s3.n_filled)[0, 0] == pytest.approx((5 + 5 + 0.1) / 3)
    # fibrous target kept by the 3-iteration mean; bone target without averaging
    assert classify(averaged_stimulus(s3.history, s3.n_filled), rule).tolist() == [P.FIBROUS] * 2
    assert s3.level.tolist() == [1.0, 1.0]
    assert s1.level.tolist() == [2.0, 2.0]                 # fibrous, fibrous, then one rung up
    # after two more low iterations the window holds only low values
    for _ in range(2):
        s3 = step(s3, low, 0.0, rule, 1.0)
    assert averaged_stimulus(s3.history, s3.n_filled)[0, 0] == pytest.approx(0.1)


def test_quadrature_point_strains_are_averaged_with_weights():
    rule = PrendergastLacroix()
    eq = np.stack([_strain_with_octahedral_shear(0.0375 * 4), np.zeros((3, 3))])[None]
    s = step(initial_state(1, rule, n_average=1), eq, 0.0, rule, 1.0, weights=[[1.0, 3.0]])
    assert s.history[-1, 0, 0] == pytest.approx(1.0)        # (4*1 + 0*3) / 4


# ------------------------------------------------------------------------------ bridging
def _box(n=(3, 3, 4), cell_type="hexahedron", xs=None):
    xs = np.arange(n[0] + 1.0) if xs is None else np.asarray(xs, float)
    return grid(xs, np.arange(n[1] + 1.0), np.arange(n[2] + 1.0), cell_type)


def _cube_index(n, i, j, k):
    return (i * n[1] + j) * n[2] + k


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
def test_bone_column_bridges_and_a_missing_layer_breaks_it(cell_type):
    n = (3, 3, 4)
    m = _box(n, cell_type)
    per = 1 if cell_type == "hexahedron" else 6
    cube = np.arange(m.n_solid_cells) // per
    column = np.isin(cube, [_cube_index(n, 1, 1, k) for k in range(n[2])])
    r = bridging(m, np.arange(m.n_solid_cells), column, "zmax", "zmin")
    assert r.bridged and r.n_components == 1
    assert r.upper_components == r.lower_components == (0,)
    broken = column & (cube != _cube_index(n, 1, 1, 2))
    r = bridging(m, np.arange(m.n_solid_cells), broken, "zmax", "zmin")
    assert not r.bridged and r.n_components == 2 and r.bridging_components == ()


def test_bone_fraction_is_volume_weighted_and_exact():
    n = (3, 2, 2)
    m = _box(n, xs=[0.0, 1.0, 3.0, 6.0])                    # slab widths 1, 2, 3 mm
    i = np.arange(m.n_solid_cells) // (n[1] * n[2])
    r = bridging(m, np.arange(m.n_solid_cells), i == 0, "zmax", "zmin")
    assert r.bone_fraction == pytest.approx(1 / 6, rel=1e-12)
    assert r.bridged                                         # the whole x-slab is bone


@pytest.mark.parametrize("n, cells", [((2, 1, 2), [(0, 0, 0), (1, 0, 1)]),     # edge contact
                                      ((2, 2, 2), [(0, 0, 0), (1, 1, 1)])])    # vertex contact
def test_edge_or_vertex_contact_does_not_bridge(n, cells):
    m = _box(n)
    bone = np.zeros(m.n_solid_cells, bool)
    bone[[_cube_index(n, *c) for c in cells]] = True
    r = bridging(m, np.arange(m.n_solid_cells), bone, "zmax", "zmin")
    assert not r.bridged and r.n_components == 2
    assert len(r.upper_components) == len(r.lower_components) == 1


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
def test_graft_topology_built_once_gives_the_bridging_of_every_state(cell_type):
    m = _box((3, 3, 4), cell_type)
    cells = np.arange(m.n_solid_cells)
    topo = graft_topology(m, cells, "zmax", "zmin")
    rng = np.random.default_rng(0)
    states = [np.zeros(len(cells), bool), np.ones(len(cells), bool),
              *(rng.random(len(cells)) < p for p in (0.3, 0.6, 0.8, 0.9))]
    results = [topo.bridging(bone) for bone in states]
    assert results == [bridging(m, cells, bone, "zmax", "zmin") for bone in states]
    assert not results[0].bridged and results[1].bridged  # the cases are not all alike
    assert results[1].bone_fraction == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"one entry per graft cell \(%d\)" % len(cells)):
        topo.bridging(states[0][:-1])


def _two_level_graft(n=(2, 2, 7), cell_type="hexahedron"):
    """A column of 7 cube layers (z 0-7 mm): two graft pieces, layers 0-1 (lower disc space,
    endplates z = 2 and z = 0) and 4-5 (upper disc space, z = 6 and z = 4), with a
    "vertebra" between (layers 2-3) and above (layer 6). Returns the mesh, the graft cells,
    every cell's layer and the two levels' (upper, lower) endplate nodes."""
    m = _box(n, cell_type)
    z = m.points[:, 2]
    plane = {k: np.flatnonzero(np.isclose(z, k)) for k in range(8)}
    per = 1 if cell_type == "hexahedron" else 6
    layer = np.repeat([k for i in range(n[0]) for j in range(n[1]) for k in range(n[2])], per)
    graft = np.flatnonzero(np.isin(layer, [0, 1, 4, 5]))
    return m, graft, layer, [(plane[6], plane[4]), (plane[2], plane[0])]


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
def test_a_multi_level_fusion_unites_only_when_every_level_bridges(cell_type):
    m, graft, layers, endplates = _two_level_graft(cell_type=cell_type)
    layer = layers[graft]
    topo = fusion_topology(m, graft, endplates, ["L3-L4", "L4-L5"])
    upper = np.isin(layer, [4, 5])
    assert [np.array_equal(np.sort(c), np.flatnonzero(sel)) for c, sel in
            zip(topo.cells, (upper, ~upper))] == [True, True]
    everything = topo.bridging(np.ones(len(graft), bool))
    assert everything.bridged and everything.n_bridged == 2
    only_upper = topo.bridging(upper)
    assert not only_upper.bridged and only_upper.n_bridged == 1
    assert [b.bridged for b in only_upper.levels] == [True, False]
    assert only_upper.bone_fraction == pytest.approx(0.5)
    assert [b.bone_fraction for b in only_upper.levels] == pytest.approx([1.0, 0.0])
    # a bone layer missing in the lower level breaks that level only
    gap = topo.bridging(layer != 0)
    assert [b.bridged for b in gap.levels] == [True, False] and not gap.bridged
    # one level given: the same as the single-graft topology
    single = fusion_topology(m, graft[upper], endplates[:1]).bridging(np.ones(upper.sum(), bool))
    assert single.levels[0] == graft_topology(m, graft[upper], *endplates[0]).bridging(
        np.ones(upper.sum(), bool))
    with pytest.raises(ValueError, match=r"one entry per graft cell \(%d\)" % len(graft)):
        topo.bridging(np.ones(len(graft) - 1, bool))


def _centroids(m):
    return np.concatenate([m.points[b.cells].mean(axis=1) for b in m.solid_blocks])


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_bridged_area_is_the_narrowest_bony_cross_section_on_every_mesh(cell_type, k):
    """A 2 x 2 x 3 mm graft between z = 0 and z = 3 split into (2k, 2k, 3k) cubes (six tets
    each for tets). By hand: its fusion area, the narrowest cross-section, is 2 x 2 = 4 mm^2; a
    bone column over the quadrant x, y < 1 mm covers 1 mm^2 of it, 1/4, and so does a graft that
    is bone at both endplates (z < 1 and z > 2) but joined by that column only; two quadrant
    columns 1/2, three 3/4; all bone 1. The same on every mesh that resolves the shapes."""
    from spinesim.mesh.generate import box

    m = box((2.0, 2.0, 3.0), (2 * k, 2 * k, 3 * k), cell_type)
    topo = graft_topology(m, np.arange(m.n_solid_cells), "zmax", "zmin")
    assert topo.fusion_area == pytest.approx(4.0, rel=1e-5)
    np.testing.assert_allclose([topo.upper_area.sum(), topo.lower_area.sum()], [4.0, 4.0])
    x, y, z = _centroids(m).T
    quadrant = [(x < 1) & (y < 1), (x > 1) & (y < 1), (x > 1) & (y > 1)]
    column = quadrant[0]
    neck = column | (z < 1) | (z > 2)
    cases = {"column": (column, 0.25), "neck": (neck, 0.25),
             "two columns": (quadrant[0] | quadrant[1], 0.5),
             "three columns": (quadrant[0] | quadrant[1] | quadrant[2], 0.75),
             "all": (np.ones(len(x), bool), 1.0)}
    for name, (bone, expected) in cases.items():
        r = topo.bridging(bone)
        assert r.bridged, name
        assert r.bridged_area_fraction == pytest.approx(expected, rel=1e-5), name
        assert topo.bridged_area(bone) == pytest.approx(4.0 * expected, rel=1e-5), name
    # a column broken by one missing layer, and no bone at all, bridge nothing
    for bone in (column & ~((z > 1) & (z < 1.0 + 1.0 / k)), np.zeros(len(x), bool)):
        r = topo.bridging(bone)
        assert not r.bridged and r.bridged_area_fraction == 0.0 == topo.bridged_area(bone)
    with pytest.raises(ValueError, match=r"one entry per graft cell \(%d\)" % len(x)):
        topo.bridged_area(np.ones(len(x) + 1, bool))


def test_the_fusion_area_is_the_narrowest_of_the_endplate_contacts_and_the_graft():
    """The upper endplate node set covers only the half x <= 1 mm of the 2 x 2 mm top face: the
    graft's fusion area is that 2 mm^2 contact, and a bone column over the quadrant x, y < 1 mm
    bridges half of it. A graft whose lower half is a 1 mm wide neck (the cubes x > 1 mm of the
    lower half left out) has a 2 mm^2 fusion area too."""
    from spinesim.mesh.generate import box

    m = box((2.0, 2.0, 2.0), (2, 2, 2), "hexahedron")
    top = np.flatnonzero(np.isclose(m.points[:, 2], 2.0) & (m.points[:, 0] <= 1.0 + 1e-9))
    topo = graft_topology(m, np.arange(m.n_solid_cells), top, "zmin")
    assert topo.upper_area.sum() == pytest.approx(2.0) and topo.fusion_area == pytest.approx(2.0)
    x, y, z = _centroids(m).T
    assert topo.bridging((x < 1) & (y < 1)).bridged_area_fraction == pytest.approx(0.5)
    narrow = np.flatnonzero(~((x > 1) & (z < 1)))
    topo = graft_topology(m, narrow, "zmax", "zmin")
    assert topo.fusion_area == pytest.approx(2.0)
    assert topo.bridging(np.ones(len(narrow), bool)).bridged_area_fraction == pytest.approx(1.0)


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra"])
def test_a_multi_level_fusion_is_graded_by_its_least_bridged_level(cell_type):
    """Two grafts of 2 x 2 mm cross-section (:func:`_two_level_graft`): the upper one all bone,
    the lower one bone over the quadrant x, y < 1 mm only; the fusion's bridged share is the
    lower level's 1/4."""
    m, graft, layers, endplates = _two_level_graft(cell_type=cell_type)
    layer = layers[graft]
    x, y, _ = _centroids(m)[graft].T
    topo = fusion_topology(m, graft, endplates, ["L3-L4", "L4-L5"])
    bone = np.isin(layer, [4, 5]) | ((x < 1) & (y < 1))
    r = topo.bridging(bone)
    assert [b.bridged_area_fraction for b in r.levels] == pytest.approx([1.0, 0.25])
    assert r.bridged_area_fraction == pytest.approx(0.25)
    assert topo.bridging(np.isin(layer, [4, 5])).bridged_area_fraction == 0.0


def test_ct_grade_from_the_bridged_share_of_the_fusion_area():
    """[IJSS5573]: grade I over 50 % of the fusion area, grade II under, III-V not fused."""
    assert [ct_grade(f) for f in (1.0, 0.51, 0.5, 0.01, 0.0)] == ["I", "I", "II", "II", "III-V"]
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="bridged area fraction must be in"):
            ct_grade(bad)


def test_fusion_topology_refuses_joined_levels_and_places_loose_pieces():
    m, graft, layers, endplates = _two_level_graft()
    layer = layers[graft]
    joined = np.concatenate([graft, np.flatnonzero(np.isin(layers, [2, 3]))])  # + vertebra
    with pytest.raises(ValueError, match="touches the endplates of levels"):
        fusion_topology(m, joined, endplates, ["L3-L4", "L4-L5"])
    with pytest.raises(ValueError, match="2 names for 1 levels"):
        fusion_topology(m, graft, endplates[:1], ["a", "b"])
    with pytest.raises(ValueError, match="one level or more"):
        fusion_topology(m, graft, [])
    # the lower level's endplates moved into the vertebra (z = 3): its piece (z 0-2) touches
    # no endplate and goes to the level whose endplates lie nearest (z 3 against z 4-6)
    far = np.flatnonzero(np.isclose(m.points[:, 2], 3))
    topo = fusion_topology(m, graft, [endplates[0], (far, far)])
    assert [np.array_equal(np.sort(c), np.flatnonzero(sel)) for c, sel in
            zip(topo.cells, (layer >= 4, layer < 4))] == [True, True]
    loose = topo.bridging(np.ones(len(graft), bool))
    assert [b.bridged for b in loose.levels] == [True, False]
    assert loose.levels[1].bone_fraction == pytest.approx(1.0)


def test_face_adjacency_counts_shared_faces():
    m = _box((2, 2, 2))
    A = face_adjacency(m, np.arange(8))
    assert A.nnz == 2 * 12 and (A != A.T).nnz == 0          # 12 interior faces in a 2x2x2 grid


def test_graft_region_between_vertebrae_heals_into_a_bridge():
    """End to end: graft region between two bone layers; a low-strain column ossifies."""
    n = (3, 3, 5)
    tags = np.full(n, 2)
    tags[:, :, [0, 4]] = 1
    m = grid(*(np.arange(k + 1.0) for k in n), region=tags,
             region_names={1: "vertebra", 2: "graft"})
    z = m.points[:, 2]
    m = m.with_node_sets(lower=np.flatnonzero(z == 1.0), upper=np.flatnonzero(z == 4.0))
    graft = np.flatnonzero(m.cells_in_region("graft"))
    ijk = np.stack(np.unravel_index(graft, n), axis=1)
    column = (ijk[:, 0] == 1) & (ijk[:, 1] == 1)
    strain = np.repeat(_strain_with_octahedral_shear(0.2)[None], len(graft), 0)   # fibrous
    strain[column] = 0.0                                                         # bone
    rule = PrendergastLacroix()
    s = initial_state(len(graft), rule, n_average=2)
    for week in range(1, 5):
        s = step(s, strain, 0.0, rule, 1.0)
        r = bridging(m, "graft", s.is_bone(), "upper", "lower")
        assert r.bridged == (week >= 3)                      # immature bone from week 3
    assert r.bone_fraction == pytest.approx(3 / 27)


@pytest.mark.parametrize("stimulus, phase, union_week", [
    (0.5, P.IMMATURE_BONE, 3),     # 0.267 < S < 1: immature bone, the third rung
    (0.1, P.MATURE_BONE, 3),       # 0.01 < S < 0.267: mature bone, bone from the third rung
])
def test_a_stimulus_inside_the_bone_window_everywhere_bridges(stimulus, phase, union_week):
    """Every graft cell under the same Prendergast-Lacroix stimulus S = gamma / 0.0375 (no
    fluid flow) inside a bone window: rate-limited at one rung a week from granulation
    tissue (fibrous in week 1, cartilage in week 2), the whole graft turns to immature bone
    in week 3, bridges the endplates then and not before, and ends in the window's phase."""
    m = _box((3, 3, 4))
    rule = PrendergastLacroix()
    strain = np.repeat(_strain_with_octahedral_shear(stimulus * rule.a)[None],
                       m.n_solid_cells, 0)
    assert prendergast_stimulus(strain, 0.0, rule.a) == pytest.approx(stimulus)
    s = initial_state(m.n_solid_cells, rule, n_average=1)
    topo = graft_topology(m, np.arange(m.n_solid_cells), "zmax", "zmin")
    for week in range(1, 6):
        s = step(s, strain, 0.0, rule, 1.0)
        r = topo.bridging(s.is_bone())
        assert r.bridged == (week >= union_week), week
        assert r.bone_fraction == (1.0 if week >= union_week else 0.0)
    assert (s.level == phase).all()


def test_phase_constants_are_the_lp02_values():
    """[LP02] (Lacroix & Prendergast 2002) drained constants, as the module table lists them:
    granulation 0.2 MPa / 0.167, fibrous 2 / 0.167, cartilage 10 / 0.167, immature bone
    1 000 / 0.3, mature bone 6 000 / 0.3; granulation modulus span 0.2 ([LP02]) to 1 MPa
    (Geris et al.). At integer levels the rule of mixtures returns the pure phase."""
    from spinesim.failure.healing import GRANULATION_E_RANGE_MPA

    E, nu = tissue_properties([0, 1, 2, 3, 4])
    np.testing.assert_allclose(E, [0.2, 2.0, 10.0, 1000.0, 6000.0])
    np.testing.assert_allclose(nu, [0.167, 0.167, 0.167, 0.3, 0.3])
    assert GRANULATION_E_RANGE_MPA == (0.2, 1.0)


def test_volume_quantile_docstring_examples_at_an_exact_cumulative_share():
    """Values 0.01, 0.02, 0.03 with volumes 1, 1, 2: the two smallest hold exactly half of the
    volume 4, so the 0.5 quantile is 0.02 (smallest v whose share is >= q) and 0.51 needs 0.03."""
    assert volume_quantile([0.01, 0.02, 0.03], [1.0, 1.0, 2.0], 0.5) == 0.02
    assert volume_quantile([0.01, 0.02, 0.03], [1.0, 1.0, 2.0], 0.51) == 0.03


def test_hydrostatic_pressure_of_a_batch_of_tensors():
    """p = -tr(sigma)/3 per tensor of a (n, 3, 3) batch: -(-3-3-3)/3 = 3, -(1+2+3)/3 = -2 MPa."""
    stress = np.stack([np.diag([-3.0, -3.0, -3.0]), np.diag([1.0, 2.0, 3.0])])
    np.testing.assert_allclose(hydrostatic_pressure(stress), [3.0, -2.0])


def test_claes_heigele_and_strain_window_stimulus_values():
    """Claes-Heigele: (largest |principal strain|, pressure) = (0.03, 0.2) for principal
    strains (0.01, -0.03, 0) and p = 0.2 MPa. Perren window: its measure is the same largest
    |principal strain|, 0.03 -> the 2-10 % window, cartilage (via step, 1 rung down from
    immature bone)."""
    eps = np.diag([0.01, -0.03, 0.0])[None]
    np.testing.assert_allclose(ClaesHeigele().stimulus(eps, 0.0, np.array([0.2])),
                               [[0.03, 0.2]])
    np.testing.assert_allclose(perren().stimulus(eps, 0.0), [[0.03]])
    rule = perren()
    s = step(initial_state(1, rule, n_average=1, phase=P.IMMATURE_BONE), eps, 0.0, rule, 1.0)
    assert s.phase.tolist() == [P.CARTILAGE]


def test_dominant_phase_is_the_nearest_rung():
    """phase = nearest rung, x.5 rounding up: 0.45 -> 0, 0.5 -> 1, 2.7 -> 3, 3.49 -> 3."""
    from spinesim.failure.healing import HealingState

    s = HealingState(np.array([0.45, 0.5, 2.7, 3.49]), np.zeros((1, 4, 1)))
    assert s.phase.tolist() == [0, 1, 3, 3]


def test_rate_limited_default_is_one_rung_per_week():
    """Default rate 1 rung/week: from granulation (0) towards mature bone (4) in 1 week -> 1;
    in 0.5 week -> 0.5; a target 0.3 away is reached."""
    from spinesim.failure.healing import rate_limited

    np.testing.assert_allclose(rate_limited(np.array([0.0, 0.0, 2.0]),
                                            np.array([4.0, 4.0, 2.3]), 1.0), [1.0, 1.0, 2.3])
    np.testing.assert_allclose(rate_limited(np.array([0.0]), np.array([4.0]), 0.5), [0.5])


def test_empty_averaging_window_and_zero_time_step_are_rejected():
    """n_average must be >= 1, an empty history has no mean, and dt_weeks must be > 0."""
    rule = PrendergastLacroix()
    with pytest.raises(ValueError, match="n_average"):
        initial_state(2, rule, n_average=0)
    with pytest.raises(ValueError, match="empty"):
        averaged_stimulus(np.zeros((2, 3, 1)), 0)
    with pytest.raises(ValueError, match="dt_weeks"):
        step(initial_state(1, rule, n_average=1), np.zeros((1, 3, 3)), 0.0, rule, 0.0)


def test_phases_are_consecutive_rungs_in_maturity_order():
    """The rate limit moves one rung (1.0) at a time, so the six phases are 0..5 in order."""
    assert [(p.name, int(p)) for p in Phase] == [
        ("GRANULATION", 0), ("FIBROUS", 1), ("CARTILAGE", 2), ("IMMATURE_BONE", 3),
        ("MATURE_BONE", 4), ("RESORPTION", 5)]


@pytest.mark.parametrize("cell_type, n_cells", [("hexahedron", 3), ("tetra", 18)])
def test_cell_volumes_are_the_element_volumes_in_mm3(cell_type, n_cells):
    """A 1 x 1 x 3 mm box of three 1 mm cubes: hex8 cells hold 1 mm^3 each; each cube split
    into six tets gives 1/6 mm^3 per tet (the volumes sum to the box's 3 mm^3)."""
    from spinesim.failure.bridging import cell_volumes
    from spinesim.mesh.generate import box

    m = box((1.0, 1.0, 3.0), (1, 1, 3), cell_type)
    vol = cell_volumes(m, np.arange(n_cells))
    np.testing.assert_allclose(vol, np.full(n_cells, 3.0 / n_cells))


def test_a_loose_piece_goes_to_the_level_with_the_nearest_endplates_on_either_side():
    """The upper piece (layers 4-5, centroid z = 5 mm) touches no endplate when the second
    level's endplates are both at z = 7 (mid 7, distance 2) and the first level's are z = 2 and
    z = 0 (mid 1, distance 4): it belongs to the second level, the lower piece to the first."""
    m, graft, layers, endplates = _two_level_graft()
    layer = layers[graft]
    top = np.flatnonzero(np.isclose(m.points[:, 2], 7))
    topo = fusion_topology(m, graft, [endplates[1], (top, top)])
    assert [np.array_equal(np.sort(c), np.flatnonzero(sel)) for c, sel in
            zip(topo.cells, (layer < 4, layer >= 4))] == [True, True]


def test_loose_piece_placement_uses_the_endplate_midpoints():
    """A 10-layer column (z 0-10 mm): the upper piece (layers 4-5, centroid z = 5) touches no
    endplate of the second level, whose endplates are z = 8 and z = 9 (midpoint 8.5, distance
    3.5); the first level's are z = 2 and z = 0 (midpoint 1, distance 4). The piece goes to the
    second level (the nearest midpoint, not the nearest single endplate: z = 2 and z = 8 tie)."""
    m, graft, layers, _ = _two_level_graft(n=(2, 2, 10))
    layer = layers[graft]
    plane = {k: np.flatnonzero(np.isclose(m.points[:, 2], k)) for k in (0, 2, 8, 9)}
    topo = fusion_topology(m, graft, [(plane[2], plane[0]), (plane[9], plane[8])])
    assert [np.array_equal(np.sort(c), np.flatnonzero(sel)) for c, sel in
            zip(topo.cells, (layer < 4, layer >= 4))] == [True, True]


def _column_in_two_blocks():
    """Three stacked 1 mm hex cubes (z 0-3) as one block, and the same cells split into two
    solid blocks (the first cube, then the other two)."""
    from spinesim.mesh.generate import box
    from spinesim.mesh.mesh import CellBlock, Mesh

    one = box((1.0, 1.0, 3.0), (1, 1, 3), "hexahedron")
    (blk,) = one.solid_blocks
    order = np.argsort(one.points[blk.cells].mean(axis=1)[:, 2])   # bottom cube first
    c, r = blk.cells[order], blk.region[order]
    two = Mesh(one.points, (CellBlock("hexahedron", c[:1], r[:1]),
                            CellBlock("hexahedron", c[1:], r[1:])),
               one.region_names, one.node_sets)
    return one, order, two


def test_graft_cells_spread_over_two_solid_blocks():
    """Cells in block order across two blocks: cell 0 is the bottom cube (block 1), cells 1 and
    2 the middle and top cubes (block 2). By hand: each holds 1 mm^3; cubes 0-1 and 1-2 share a
    face; only cube 0 lies on z = 0 and only cube 2 on z = 3; the three bridge, the upper two
    do not (they miss z = 0)."""
    _, _, m = _column_in_two_blocks()
    topo = graft_topology(m, np.arange(3), "zmax", "zmin")
    np.testing.assert_allclose(topo.volumes, [1.0, 1.0, 1.0])
    assert sorted(map(tuple, np.argwhere(topo.adjacency.toarray()))) == [
        (0, 1), (1, 0), (1, 2), (2, 1)]
    assert topo.lower.tolist() == [True, False, False]
    assert topo.upper.tolist() == [False, False, True]
    assert topo.bridging([True, True, True]).bridged
    upper_two = graft_topology(m, [1, 2], "zmax", "zmin")
    assert upper_two.upper.tolist() == [False, True] and not upper_two.lower.any()
    np.testing.assert_allclose(upper_two.volumes, [1.0, 1.0])


def test_graft_cells_as_a_boolean_mask_and_out_of_range_indices():
    """A mask over the solid cells selects the cells it marks (the top two cubes here, 1 mm^3
    each, face-adjacent, on z = 3 only); indices outside [0, n_solid_cells) are refused."""
    _, _, m = _column_in_two_blocks()
    topo = graft_topology(m, np.array([False, True, True]), "zmax", "zmin")
    assert topo.upper.tolist() == [False, True] and not topo.lower.any()
    assert topo.adjacency.toarray().tolist() == [[False, True], [True, False]]
    for bad in ([0, 3], [-1, 1]):
        with pytest.raises(ValueError, match="graft cell indices"):
            graft_topology(m, bad, "zmax", "zmin")


def test_quadratic_tetra_graft_bridges_like_the_linear_one():
    """tet10 cells (triangle6 faces, corners = the first 3 nodes) give the same face adjacency,
    endplate cells and volumes as tet4 cells of the same box: 3 cubes x 6 tets of 1/6 mm^3."""
    from spinesim.mesh.generate import box

    lin, quad = (box((1.0, 1.0, 3.0), (1, 1, 3), t) for t in ("tetra", "tetra10"))
    a, b = (graft_topology(m, np.arange(18), "zmax", "zmin") for m in (lin, quad))
    assert (a.adjacency != b.adjacency).nnz == 0
    assert a.upper.tolist() == b.upper.tolist() and a.lower.tolist() == b.lower.tolist()
    np.testing.assert_allclose(b.volumes, np.full(18, 1.0 / 6.0))
    assert b.bridging(np.ones(18, bool)).bridged
