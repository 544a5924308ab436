"""Fake Monte Carlo case functions for tests/test_risk.py, importable by worker processes.

The real timeline takes about 30 s per sample; these compute the outcomes of
:data:`spinesim.outcomes.OUTCOME_COLUMNS` that the risk layer reads from the sampled
parameters (nested scenario tables) by simple deterministic rules, so tests can count the
failures exactly. When ``SPINESIM_TEST_CALLS`` names a file, each call appends a line to it.
"""

from __future__ import annotations

import os

#: nonunion fails when the graft's initial modulus is below this (MPa); uniform 0.2-1.0.
GRAFT_BELOW_MPA = 0.5
#: insufficient support fails when the bone ingrowth threshold is above this (µm); 20-40.
BONE_THRESHOLD_ABOVE_UM = 35.0
#: hardware fatigue fails when activity level x notch factor exceeds this (-).
FATIGUE_ABOVE = 2.2


def _log_call() -> None:
    log = os.environ.get("SPINESIM_TEST_CALLS")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"call\n")
        finally:
            os.close(fd)


def rule(params: dict) -> dict[str, bool]:
    """Which modes fail for ``params`` (nested scenario tables), by the thresholds above."""
    level = params["activity"]["level"]
    notch = params["hardware"]["rod"]["notch_factor"]
    return {
        "insufficient_support_fails":
            params["loosening"]["bone_threshold_um"] > BONE_THRESHOLD_ABOVE_UM,
        "hardware_fatigue_fails": level * notch > FATIGUE_ABOVE,
        "nonunion_fails": params["graft"]["initial_modulus_mpa"] < GRAFT_BELOW_MPA,
    }


def outcomes(params: dict) -> dict:
    """Outcomes by :func:`rule`; rod damage and screw pullout load grow with activity level,
    micromotion with the bending moment, the union week falls with the graft modulus (None:
    never bridged), the day-0 graft strain falls with it."""
    _log_call()
    fails = rule(params)
    graft = params["graft"]["initial_modulus_mpa"]
    level = params["activity"]["level"]
    return {
        **fails,
        "insufficient_support_week": 10 if fails["insufficient_support_fails"] else None,
        "hardware_fatigue_week": 20 if fails["hardware_fatigue_fails"] else None,
        "nonunion_week": params["timeline"]["nonunion_horizon_weeks"]
        if fails["nonunion_fails"] else None,
        "union_week": None if fails["nonunion_fails"] else round(40.0 - 30.0 * graft),
        "rod_damage": level ** 3 * params["hardware"]["rod"]["notch_factor"] / 10.0,
        "max_micromotion_um": 10.0 * params["activity"]["bending"]["moment_nm"],
        "max_screw_pullout_n": 30.0 * level,
        "max_loosened_screws": int(fails["insufficient_support_fails"]),
        "initial_graft_strain": 0.01 / graft,
    }


def never_fails(params: dict) -> dict:
    """No mode ever fails; union at week 12 always (constant outcomes)."""
    return {"insufficient_support_fails": False, "hardware_fatigue_fails": False,
            "nonunion_fails": False, "union_week": 12, "rod_damage": 0.0,
            "max_micromotion_um": 10.0 * params["activity"]["bending"]["moment_nm"]}


def crash_on_high_activity(params: dict) -> dict:
    """:func:`outcomes`, but raises for an activity level above 1.0."""
    level = params["activity"]["level"]
    if level > 1.0:
        raise RuntimeError(f"solver diverged at activity level {level:.3f}")
    return outcomes(params)


def echo_timeline(params: dict) -> dict:
    """No failures; echoes the timeline and mesh settings the case received."""
    return {"insufficient_support_fails": False, "hardware_fatigue_fails": False,
            "nonunion_fails": False, "weeks": params["timeline"]["weeks"],
            "horizon": params["timeline"]["nonunion_horizon_weeks"],
            "resolution": params["segment"]["resolution"],
            "vtu_weeks": params["output"]["vtu_weeks"]}
