"""The cage on the endplates in unilateral contact (``cage.interface = "contact"``): the split
mesh, the interface's area and normals against the cage geometry, contact against the bonded
cage under a compressive and a bending load, and the scenario key."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spinesim.errors import SpinesimError
from spinesim.fem.springs import spring_forces
from spinesim.model.cage_interface import CAGE_INTERFACES, NORMAL_SET, split_cage_interface
from spinesim.model.loadcases import load_case
from spinesim.model.segment import SegmentOptions, build_segment, segment_geometry, solve_rom
from spinesim.scenario import Scenario
from spinesim.scenario_schema import field

UNILATERAL = SegmentOptions(construct="unilateral-cage", resolution=0.5, soft_tissue=False)


@pytest.fixture(scope="module")
def split():
    geometry = segment_geometry(UNILATERAL)
    return geometry, *split_cage_interface(geometry.mesh)


def _cells(mesh, region):
    (blk,) = mesh.solid_blocks
    return blk.cells[mesh.cells_in_region(region)]


def test_the_split_cage_shares_no_node_with_bone(split):
    geometry, mesh, iface = split
    old = geometry.mesh
    (blk,) = mesh.solid_blocks
    bone = ~(mesh.cells_in_region("cage") | mesh.cells_in_region("graft"))
    assert np.intersect1d(_cells(mesh, "cage"), blk.cells[bone]).size == 0
    shared = np.intersect1d(_cells(old, "cage"), old.solid_blocks[0].cells[bone])
    assert iface.n == len(shared) > 0
    assert mesh.n_nodes == old.n_nodes + iface.n
    np.testing.assert_array_equal(np.sort(iface.pairs[:, 1]), shared)
    np.testing.assert_array_equal(mesh.points[iface.pairs[:, 0]], mesh.points[iface.pairs[:, 1]])
    # bone and graft keep their nodes, and every node set is unchanged
    keep = ~mesh.cells_in_region("cage")
    np.testing.assert_array_equal(blk.cells[keep], old.solid_blocks[0].cells[keep])
    assert all(np.array_equal(mesh.node_sets[k], v) for k, v in old.node_sets.items())


def test_interface_area_is_the_cage_footprint_less_its_window_top_and_bottom(split):
    geometry, _, iface = split
    c = geometry.cage  # 24 x 18 mm with a 12 x 8 mm window by default
    footprint = c.width_mm * c.depth_mm - c.window_width_mm * c.window_depth_mm
    upper = iface.normal @ geometry.frames[geometry.levels[0]][:3, 2] > 0
    for side in (upper, ~upper):
        assert iface.area_mm2[side].sum() == pytest.approx(footprint, rel=0.02)
    # normals leave the cage into the bone: up into the upper vertebra, down into the lower
    for level, side, sign in ((0, upper, 1.0), (1, ~upper, -1.0)):
        axis = geometry.frames[geometry.levels[level]][:3, 2]
        assert np.all(sign * iface.normal[side] @ axis > 0.95)
    assert np.all(iface.height_mm > 0)


def test_two_cages_give_four_interfaces_of_one_footprint_each():
    geometry = segment_geometry(replace(UNILATERAL, levels="L3-L5"))
    _, iface = split_cage_interface(geometry.mesh)
    c = geometry.cage
    footprint = c.width_mm * c.depth_mm - c.window_width_mm * c.window_depth_mm
    assert iface.area_mm2.sum() == pytest.approx(4 * footprint, rel=0.02)


@pytest.fixture(scope="module")
def solved():
    """Per cage interface: the segment and its results under a compression (1000 N with a
    token 0.1 N·m flexion; the protocol needs a moment) and a pure 7.5 N·m flexion."""
    cases = (load_case("flexion", 0.1, 1000.0), load_case("flexion", 7.5, 0.0))
    out = {}
    for mode in CAGE_INTERFACES:
        seg = build_segment(replace(UNILATERAL, cage_interface=mode))
        out[mode] = seg, [solve_rom(seg, [c], keep_solutions=True)["flexion"] for c in cases]
    return out


def _contact_springs(seg):
    (springs,) = [s for s in seg.springs if s.name == NORMAL_SET]
    return springs


def _contact_forces(seg, result):
    return spring_forces(_contact_springs(seg), result.solution)


def test_under_compression_the_contact_stays_closed_and_matches_the_bonded_cage(solved):
    seg, (pressed, _) = solved["contact"]
    forces = _contact_forces(seg, pressed)
    assert np.all(forces < 0)  # every pair carries compression: nothing lifted off
    geometry = seg.geometry
    upper = _contact_springs(seg).direction @ geometry.frames[geometry.levels[0]][:3, 2] > 0
    assert -forces[upper].sum() > 800.0  # the cage carries most of the 1000 N
    bonded = solved["bonded"][1][0]
    assert pressed.rod_max_von_mises_mpa == pytest.approx(bonded.rod_max_von_mises_mpa, rel=0.02)
    assert pressed.rom_deg == pytest.approx(bonded.rom_deg, rel=0.02, abs=1e-3)


def test_a_bending_moment_lifts_the_cage_off_and_loads_the_rod_more(solved):
    seg, (_, bent) = solved["contact"]
    forces = _contact_forces(seg, bent)
    assert np.all(forces <= 0)  # the one-sided law: no pair pulls
    lifted = np.mean(forces == 0)
    assert 0.1 < lifted < 0.95  # part of the interface opens, part carries the fulcrum
    bonded = solved["bonded"][1][1]
    assert bent.rom_deg > 1.05 * bonded.rom_deg
    assert bent.rod_max_von_mises_mpa > 1.05 * bonded.rod_max_von_mises_mpa


def test_segment_options_and_scenario_refuse_a_contact_without_a_cage():
    with pytest.raises(SpinesimError, match="cage_interface 'glued'"):
        SegmentOptions(construct="bilateral-cage", cage_interface="glued")
    with pytest.raises(SpinesimError, match="needs a generated segment with a cage"):
        SegmentOptions(construct="bilateral", cage_interface="contact")
    assert field("cage.interface").choices == CAGE_INTERFACES
    with pytest.raises(SpinesimError, match="cage.interface"):
        Scenario.from_dict({"cage": {"interface": "glued"}})
    with pytest.raises(SpinesimError, match="cage.interface"):
        Scenario.from_dict({"segment": {"construct": "bilateral"},
                            "cage": {"interface": "contact"}})


def test_the_scenario_key_reaches_the_segment_and_load_histories_refuse_it():
    from spinesim.load_history import history_damage
    from spinesim.simulate import segment_options

    contact = Scenario.from_dict({"cage": {"interface": "contact"}})
    assert segment_options(contact).cage_interface == "contact"
    assert segment_options(Scenario.default()).cage_interface == "bonded"
    with pytest.raises(SpinesimError, match="cage.interface = 'contact'"):
        history_damage(np.zeros((3, 4)), contact)


@pytest.fixture(scope="module")
def contact_timelines():
    """Three weeks of the unilateral construct with the cage in contact, solved by the active
    set on the full model (condense=False) and on the condensed one (the default), with the
    fields of weeks 0 and 3."""
    from spinesim.simulate import run_timeline

    scenario = Scenario.from_dict({"segment": {"construct": "unilateral-cage"},
                                   "cage": {"interface": "contact"},
                                   "output": {"vtu_weeks": [0, 3]}})
    return {c: run_timeline(scenario, weeks=3, resolution=0.5, condense=c)
            for c in (False, None)}


def test_the_condensed_contact_solve_matches_the_active_set_on_the_full_model(
        contact_timelines):
    full, condensed = contact_timelines[False], contact_timelines[None]
    assert condensed.info["condensed"] and not full.info["condensed"]
    assert condensed.info["factorizations"] == 0 and condensed.info["cage_interface"] == "contact"
    numbers = full.timeline.select_dtypes("number").columns
    np.testing.assert_allclose(condensed.timeline[numbers].to_numpy(float),
                               full.timeline[numbers].to_numpy(float), rtol=1e-6, atol=1e-9)
    for week in (0, 3):
        u_full = full.fields[week]["displacement_mm"]
        np.testing.assert_allclose(condensed.fields[week]["displacement_mm"], u_full,
                                   rtol=0, atol=1e-6 * np.abs(u_full).max())


def test_the_condensed_active_set_refuses_springs_it_cannot_condense():
    from spinesim.fem.active_set import solve_condensed_active_set
    from spinesim.fem.springs import SpringSet

    tension = SpringSet("ligament", [[0, 1]], [0.0, 0.0, 1.0], [10.0])
    with pytest.raises(ValueError, match="compression-only springs with one law segment"):
        solve_condensed_active_set(None, [], [], {}, [np.zeros((1, 6))], tension)


def test_rom_command_passes_the_cage_interface_and_compares_with_a_bonded_intact(
        monkeypatch):
    import spinesim.model.rom as rom
    from spinesim.cli import main as cli

    built = []

    def solve_rom(seg, cases):  # no solve: stop once both segments' options are seen
        if len(built) == 2:
            raise RuntimeError("stop after the builds")
        return {}

    monkeypatch.setattr(rom, "build_segment", lambda opts: built.append(opts) or None)
    monkeypatch.setattr(rom, "solve_rom", solve_rom)
    with pytest.raises(RuntimeError, match="stop after the builds"):
        cli(["rom", "--construct", "unilateral-cage", "--cage-interface", "contact"])
    assert [(o.construct, o.cage_interface) for o in built] == [("intact", "bonded"),
                                                               ("unilateral-cage", "contact")]


@pytest.mark.parametrize("preload, noted", [("0", True), ("500", False)])
def test_rom_notes_a_contact_cage_without_preload(monkeypatch, capsys, preload, noted):
    import spinesim.model.rom as rom
    from spinesim.cli import main as cli

    monkeypatch.setattr(rom, "rom_study", lambda opts, moment_nm, preload_n: {
        "model": {"dofs": 1}, "seconds": 0.0, "cases": {}})
    assert cli(["rom", "--construct", "bilateral-cage", "--cage-interface", "contact",
                "--preload", preload]) == 0
    assert ("Give --preload" in capsys.readouterr().out) is noted
