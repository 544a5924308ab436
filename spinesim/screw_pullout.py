"""Day-0 screw loads of a scenario against the pullout strength of the screws.

:func:`day0_screw_loads` builds the scenario's fused segment in its day-0 state (granulation
tissue in the graft, bonded screw interfaces), solves the peak of every active activity and
tabulates per screw its pullout and transverse load on the bone
(:mod:`spinesim.failure.pullout`), its largest micromotion and its pullout strength, predicted
from the bone its thread holds in (:func:`spinesim.simulate.pullout_strengths`).

The loads are the loads the rod puts on the screw heads; only their share between screws
and cage moves with the interface stiffness, which has no source
(``loosening.bonded_tie_factor``), so they change far less with it than the micromotion does.
Run it over several tie factors (``examples/screw_pullout.py``) to see both.

:func:`thread_strengths` says where each screw's predicted strength comes from: the length of
its thread in each bone region and that part's share of the strength.

:func:`pullout_test_stiffness` simulates the in-vitro axial pullout test of each screw alone in
its vertebra (body potted, load along the axis on the head) and gives the test's stiffness
(N/mm) for one or more tie factors: the one measured output of the test that depends on the
interface stiffness, so it checks that unsourced number against cadaver tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError
from spinesim.failure.pullout import bone_shear_strength_mpa, pullout_strengths_n, screw_loads
from spinesim.fem.constraints import Support
from spinesim.mesh.locate import locate_points
from spinesim.mesh.mesh import Mesh
from spinesim.model.hardware import Screw, hardware_results
from spinesim.scenario import Scenario
from spinesim.simulate import (day0_activity_peaks, graft_state_segment, pullout_strengths,
                               thread_geometry)

__all__ = ["PULLOUT_TEST_COLUMNS", "PULLOUT_TEST_LOAD_N", "PULLOUT_TEST_TIE_FACTORS",
           "SCREW_LOAD_COLUMNS", "THREAD_COLUMNS",
           "axial_pullout_stiffness", "day0_screw_loads", "pullout_test_stiffness",
           "thread_strengths"]

logger = logging.getLogger(__name__)

#: Columns of :func:`thread_strengths`'s table.
THREAD_COLUMNS = ("screw", "region", "thread_mm", "modulus_mpa", "shear_strength_mpa",
                  "strength_n", "share")
#: Regions of a generated segment that are bone (:func:`_vertebrae`).
_BONE_REGIONS = ("cortical", "cancellous", "endplate", "posterior")
#: Columns of :func:`pullout_test_stiffness`'s table.
PULLOUT_TEST_COLUMNS = ("screw", "tie_factor", "stiffness_n_per_mm", "head_displacement_mm",
                        "interface_n_per_mm", "potted_nodes")
#: Tie factors the simulated pullout test accepts (x the host cell's E per mm of screw): beyond
#: them the solve loses its accuracy (resolution 0.3: 1e-8 leaves a relative residual of 4e-6,
#: 1e13 one of 7e-4; 1e-15 a singular matrix) or the values overflow (1e308). Wider than the
#: timeline's ``loosening.bonded_tie_factor``: with no rod the head is loaded directly, and the
#: test tends to the interface springs alone as they soften (checked down to 1e-6).
PULLOUT_TEST_TIE_FACTORS = (1e-6, 1e6)
#: Axial loads on the head the simulated pullout test accepts (N). The model is linear, so the
#: load only scales the displacement; near the smallest float it vanishes (1e-320 N: a zero
#: displacement). 1e5 N is far beyond any screw's pullout strength (a few kN).
PULLOUT_TEST_LOAD_N = (1e-3, 1e5)
#: Columns of :func:`day0_screw_loads`'s table.
SCREW_LOAD_COLUMNS = ("activity", "screw", "pullout_n", "transverse_n", "max_micromotion_um",
                      "micromotion_node", "screw_nodes", "micromotion_region",
                      "micromotion_axial_um", "micromotion_normal_um", "strength_n",
                      "safety_factor")


def day0_screw_loads(scenario: Scenario | None = None, resolution: float | None = None,
                     ) -> pd.DataFrame:
    """Pullout and transverse load of every screw under each active activity's peak, day 0.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct
    resolution : mesh resolution; default ``segment.resolution``

    Returns
    -------
    DataFrame, one row per (activity, screw), columns :data:`SCREW_LOAD_COLUMNS`:
    ``pullout_n`` (N, along the screw axis, positive out of the bone, negative pushed in),
    ``transverse_n`` (N), ``max_micromotion_um`` (µm, largest over the screw's tied nodes),
    where it is: ``micromotion_node`` (the tied node, counted from 0 at the entry; the tip
    is ``screw_nodes - 1``), ``micromotion_region`` (the bone region of the cell holding
    that node) and the motion there along and across the screw axis
    (``micromotion_axial_um``, ``micromotion_normal_um``, µm),
    ``strength_n`` (N, the screw's predicted pullout strength, or
    ``loosening.pullout_strength_n`` when set) and ``safety_factor`` (strength over the
    pullout load; inf for a screw pushed in).
    """
    scenario = Scenario.default() if scenario is None else scenario
    seg, active, solutions = day0_activity_peaks(scenario, resolution)
    strength = pullout_strengths(scenario, seg)
    hw = seg.hardware
    region = _tie_regions(seg)
    rows = []
    for activity, sol in zip(active, solutions):
        _, tie = hardware_results(hw, sol)
        names = np.asarray(tie.screw, dtype=str)
        for screw, load in screw_loads(tie.screw, tie.force_n, tie.axis).items():
            on = np.flatnonzero(names == screw)
            at = on[np.argmax(tie.micromotion_um[on])]
            safety = strength[screw] / load.pullout_n if load.pullout_n > 0 else np.inf
            rows.append((activity.name, screw, load.pullout_n, load.transverse_n,
                         float(tie.micromotion_um[at]), int(tie.index[at]), len(on),
                         str(region[at]), float(tie.axial_um[at]), float(tie.normal_um[at]),
                         strength[screw], safety))
    logger.info("day-0 screw loads of %d activities, %d screws", len(active),
                len(rows) // max(len(active), 1))
    return pd.DataFrame(rows, columns=list(SCREW_LOAD_COLUMNS))


def thread_strengths(scenario: Scenario | None = None, resolution: float | None = None,
                     ) -> pd.DataFrame:
    """Where each screw's predicted pullout strength comes from, by bone region.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct (a
        construct without screws is refused, as by :func:`spinesim.simulate.segment_options`)
    resolution : mesh resolution; default ``segment.resolution``

    Returns
    -------
    DataFrame, one row per (screw, region its thread crosses), columns
    :data:`THREAD_COLUMNS`: ``thread_mm`` (mm of thread held by that region's cells),
    ``modulus_mpa`` (their modulus, MPa, the length-weighted mean), ``shear_strength_mpa``
    (the bone's shear strength there, MPa, same mean), ``strength_n`` (that part's pullout
    strength, N) and ``share`` (its fraction of the screw's strength). The strengths of a
    screw's rows add up to its predicted strength (:func:`spinesim.simulate.pullout_strengths`
    without ``loosening.pullout_strength_n``, which this table ignores).
    """
    scenario = Scenario.default() if scenario is None else scenario
    seg = graft_state_segment(scenario, resolution, 0.0)  # refuses a construct without screws
    ties = seg.hardware.ties.values()
    screw = np.array([s for t in ties for s in t["screw"]], dtype=str)
    host = np.concatenate([t["host_cell"] for t in ties])
    length = np.concatenate([t["tributary_mm"] for t in ties])
    region = _tie_regions(seg)
    shear = bone_shear_strength_mpa(seg.E[host],
                                    scenario.get("loosening.bone_shear_strength_ratio"))
    outer, tsf = thread_geometry(scenario, seg)
    labels = np.char.add(np.char.add(screw, "\t"), region)
    rows = []
    for label, strength in pullout_strengths_n(labels, shear, length, outer, tsf).items():
        name, where = label.split("\t")
        on = labels == label
        mm = float(length[on].sum())
        rows.append((name, where, mm, float(seg.E[host[on]] @ length[on]) / mm,
                     float(shear[on] @ length[on]) / mm, strength))
    table = pd.DataFrame(rows, columns=list(THREAD_COLUMNS[:-1]))
    table["share"] = table["strength_n"] / table.groupby("screw")["strength_n"].transform("sum")
    return table


def pullout_test_stiffness(scenario: Scenario | None = None, resolution: float | None = None,
                           tie_factors: Sequence[float] | None = None, load_n: float = 100.0,
                           ) -> pd.DataFrame:
    """Axial stiffness of each screw of the construct in a simulated pullout test (N/mm).

    The in-vitro test (e.g. human lumbar vertebrae potted in cement, each screw pulled along
    its axis until it fails, stiffness from the linear part of the load-displacement curve):
    here each screw alone (no rod, no other screw) sits in its vertebra of the scenario's
    segment (bone quality and scales, screw size and trajectory, head offset as the scenario
    says; the vertebra taken out of the segment as a mesh of its own), the vertebral body's
    outer surface (the faces of its cortical shell and endplates on the vertebra's boundary)
    is held fixed, as the potting holds it. ``load_n`` pulls the head along the screw axis,
    out of the bone. The model is linear, so the stiffness does not depend on the load; the
    posterior elements are free, as in the test.

    The potting here is rigid and the test machine infinitely stiff, so the simulated
    stiffness is an upper bound of what the same screw, bone and interface would give in a
    machine; a measured stiffness below it says the model is too stiff somewhere.

    Parameters
    ----------
    scenario : the scenario (default :meth:`Scenario.default`); a timeline construct with screws
    resolution : mesh resolution; default ``segment.resolution``
    tie_factors : bonded interface stiffness per mm of screw, in multiples of the host cell's
        Young's modulus (:class:`spinesim.model.hardware.Interface`); default the scenario's
        ``loosening.bonded_tie_factor``. Each in :data:`PULLOUT_TEST_TIE_FACTORS`.
    load_n : axial load on the head, N, in :data:`PULLOUT_TEST_LOAD_N`

    Returns
    -------
    DataFrame, one row per (screw, tie factor), columns :data:`PULLOUT_TEST_COLUMNS`:
    ``stiffness_n_per_mm`` (load over the head's displacement along the axis),
    ``head_displacement_mm``, ``interface_n_per_mm`` (the axial stiffness of the interface
    springs alone, summed over the screw's tied nodes: the stiffness the test tends to as
    the interface softens) and ``potted_nodes`` (nodes of the vertebra held fixed).

    Raises
    ------
    SpinesimError
        No tie factor, a tie factor or load that is not a number in its range
        (:data:`PULLOUT_TEST_TIE_FACTORS`, :data:`PULLOUT_TEST_LOAD_N`; the message names it,
        e.g. ``tie_factors[1]``), or a construct without screws.
    """
    from spinesim.model.segment import construct_screws

    scenario = Scenario.default() if scenario is None else scenario
    factors = _checked(([scenario.get("loosening.bonded_tie_factor")] if tie_factors is None
                        else tie_factors), load_n)
    seg = graft_state_segment(scenario, resolution, 0.0)  # refuses a construct without screws
    mesh = seg.geometry.mesh
    vertebra = _vertebrae(mesh)
    rows = []
    for screw in construct_screws(seg.options, seg.geometry):
        host = locate_points(mesh, [screw.entry + 0.5 * screw.length_mm * screw.axis]).cell[0]
        if vertebra[host] < 0:
            raise SpinesimError(f"pullout test: the middle of screw {screw.name!r} lies in "
                                f"{mesh.region_names.get(int(mesh.solid_regions[host]))!r} "
                                "cells, not in a vertebra's bone")
        cells = np.flatnonzero(vertebra == vertebra[host])
        sub, potted = _potted_vertebra(mesh, cells)
        result = axial_pullout_stiffness(sub, seg.E[cells], seg.nu[cells], screw,
                                         [Support(potted, name="potting")], factors, load_n)
        rows += [(screw.name, f, *r, len(potted)) for f, r in zip(factors, result)]
    logger.info("pullout tests of %d screws at %d tie factors", len(rows) // len(factors),
                len(factors))
    return pd.DataFrame(rows, columns=list(PULLOUT_TEST_COLUMNS))


def axial_pullout_stiffness(mesh: Mesh, E: ArrayLike, nu: ArrayLike, screw: Screw,
                            supports: Sequence[Support], tie_factors: Sequence[float],
                            load_n: float = 100.0) -> np.ndarray:
    """Axial stiffness of one screw (no rod) tied into ``mesh`` at each tie factor.

    Parameters
    ----------
    mesh : the bone (mm); E, nu : (n_solid_cells,) its Young's moduli (MPa) and Poisson's
        ratios
    screw : the screw; ``supports`` hold the bone (model node ids of ``mesh``)
    tie_factors : bonded interface stiffness per mm of screw in multiples of the host cell's
        modulus (:class:`spinesim.model.hardware.Interface`), each in
        :data:`PULLOUT_TEST_TIE_FACTORS`
    load_n : load on the head along the screw axis, out of the bone, N, in
        :data:`PULLOUT_TEST_LOAD_N`

    Returns
    -------
    (len(tie_factors), 3) array: the stiffness (load over the head's displacement along the
    axis, N/mm), that displacement (mm) and the axial stiffness of the interface springs alone
    (summed over the tied nodes, N/mm), per tie factor. One model: the interface values are
    refilled per factor, the pattern is kept.
    """
    from spinesim.fem.static import LinearElasticModel
    from spinesim.model.hardware import Interface, build_hardware, interface_values
    from spinesim.model.segment import segment_solver

    factors = _checked(tie_factors, load_n)
    E = np.asarray(E, float)
    hw = build_hardware(mesh, [screw], [], E, Interface(tie_factor=1.0))
    tie = next(iter(hw.ties.values()))
    model = LinearElasticModel(mesh, E, nu, supports=supports, extra_points=hw.points,
                               element_sets=hw.element_sets, element_values=hw.element_values,
                               bbar=True, solver=segment_solver("auto", 3 * mesh.n_nodes
                                                                + 6 * len(hw.points)))
    loads = np.zeros((len(hw.points), 6))
    loads[0, :3] = -load_n * screw.axis  # the head node comes first
    k_interface = float(E[tie["host_cell"]] @ tie["tributary_mm"])
    out = np.empty((len(factors), 3))
    for i, f in enumerate(factors):
        model.update(**interface_values(hw, np.full(len(tie["node"]), f)))
        d = -float(model.solve(node_loads=loads).node_dofs[0, :3] @ screw.axis)
        out[i] = load_n / d, d, f * k_interface
    return out


def _checked(tie_factors: Sequence[float], load_n: float) -> list[float]:
    """The tie factors as floats; SpinesimError naming the value unless each tie factor (x the
    host cell's E per mm of screw) is a number in :data:`PULLOUT_TEST_TIE_FACTORS` and the
    load (N) one in :data:`PULLOUT_TEST_LOAD_N`, and there is at least one tie factor."""
    try:
        given = np.asarray(tie_factors, dtype=object).ravel()
    except ValueError:  # e.g. numpy refusing a ragged nesting
        given = np.array([tie_factors], dtype=object)
    if not len(given):
        raise SpinesimError("pullout test: no tie factors given (tie_factors = "
                            f"{tie_factors!r}); give at least one")
    factors = [_in_range(f"tie_factors[{i}]", f, PULLOUT_TEST_TIE_FACTORS,
                         "x the host bone's E per mm of screw") for i, f in enumerate(given)]
    _in_range("load_n", load_n, PULLOUT_TEST_LOAD_N, "N")
    return factors


def _in_range(name: str, value: object, bounds: tuple[float, float], unit: str) -> float:
    """``value`` as a float; SpinesimError naming ``name`` and the value unless it is a real
    number (not a bool or a string) within ``bounds`` (in ``unit``)."""
    low, high = bounds
    allowed = f"allowed range [{low:g}, {high:g}] ({unit})"
    v = value.item() if isinstance(value, np.generic) else value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpinesimError(f"pullout test: {name} = {value!r} is not a number; {allowed}")
    v = float(v)
    if not (np.isfinite(v) and low <= v <= high):
        raise SpinesimError(f"pullout test: {name} = {v!r} is "
                            + ("out of range" if np.isfinite(v) else "not a finite number")
                            + f"; {allowed}")
    return v


def _vertebrae(mesh: Mesh) -> np.ndarray:
    """Vertebra label of each solid cell (-1 for cells that are not bone): the connected
    components, over shared faces, of the bone regions (cortical, cancellous, endplate,
    posterior); graft, cage and disc separate them."""
    from scipy.sparse.csgraph import connected_components

    from spinesim.failure.bridging import face_adjacency

    tags = [k for k, v in mesh.region_names.items() if v in _BONE_REGIONS]
    bone = np.flatnonzero(np.isin(mesh.solid_regions, tags))
    label = np.full(mesh.n_solid_cells, -1)
    label[bone] = connected_components(face_adjacency(mesh, bone), directed=False)[1]
    return label


def _potted_vertebra(mesh: Mesh, cells: np.ndarray) -> tuple[Mesh, np.ndarray]:
    """The vertebra made of ``cells`` (solid-cell indices) as a mesh of its own, and its
    potted nodes: the corners of the boundary faces of its body (cortical and endplate
    cells)."""
    from spinesim.failure.bridging import face_sets

    body_tags = [k for k, v in mesh.region_names.items() if v in ("cortical", "endplate")]
    sub = mesh.with_solid_cells(cells, compact=True)
    body = np.isin(sub.solid_regions, body_tags)
    held = [f.outer[body[f.owner]].ravel() for f in face_sets(sub, np.arange(len(cells)))]
    return sub, np.unique(np.concatenate(held))


def _tie_regions(seg) -> np.ndarray:
    """Bone region name of the cell holding each tied screw node, in the order of the ties
    (and of :class:`spinesim.model.hardware.ScrewInterfaceResult`)."""
    mesh = seg.geometry.mesh
    host = np.concatenate([t["host_cell"] for t in seg.hardware.ties.values()])
    tags, which = np.unique(mesh.solid_regions[host], return_inverse=True)
    return np.array([mesh.region_names.get(int(r), str(r)) for r in tags], dtype=str)[which]
