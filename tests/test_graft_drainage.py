"""Biot consolidation of the healing tissues: constants by hand, Terzaghi's solution against
its table values and its early-time limit, bad input, and the example's drained/undrained
graft."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spinesim.failure import graft_drainage as gd
from spinesim.failure.healing import Phase


def test_granulation_constants_by_hand():
    # E 0.2 MPa, nu 0.167; k 1e-2 mm^4/(N s), K_s = K_f = 2300 MPa, phi 0.8 ([LP02])
    K = 0.2 / (3 * (1 - 2 * 0.167))
    G = 0.2 / (2 * 1.167)
    H = K + 4 * G / 3
    alpha = 1 - K / 2300
    M = 1 / (0.8 / 2300 + (alpha - 0.8) / 2300)
    c = 1e-2 / (1 / M + alpha**2 / H)
    b = gd.biot(Phase.GRANULATION)
    assert b["alpha"] == pytest.approx(alpha) and b["M"] == pytest.approx(M)
    assert b["c"] == pytest.approx(c)
    assert gd.consolidation_time_s(Phase.GRANULATION, 6.0) == pytest.approx(36 / c)
    Ku = K + alpha**2 * M
    assert gd.undrained_poisson(Phase.GRANULATION) == pytest.approx(
        (3 * Ku - 2 * G) / (2 * (3 * Ku + G)))


def test_softer_phases_drain_slower_and_are_nearer_incompressible():
    t = [gd.consolidation_time_s(p, 6.0) for p in gd.POROELASTIC]
    nu_u = [gd.undrained_poisson(p) for p in gd.POROELASTIC]
    assert np.all(np.diff(t) < 0)  # granulation ... mature bone
    assert np.all(np.diff(nu_u) < 0) and nu_u[0] < 0.5
    # undrained is stiffer than drained: nu_u above the drained nu of every phase
    from spinesim.failure.healing import PHASE_NU

    assert all(n > PHASE_NU[p] for n, p in zip(nu_u, gd.POROELASTIC))


def test_terzaghi_degree_of_consolidation_against_its_table_and_early_limit():
    # Terzaghi's average degree of consolidation: T50 = 0.197, T90 = 0.848
    assert gd.degree_of_consolidation(0.197) == pytest.approx(0.5, abs=2e-3)
    assert gd.degree_of_consolidation(0.848) == pytest.approx(0.9, abs=2e-3)
    # early times: U = sqrt(4T/pi); the series (with enough terms) agrees just above the switch
    T = 2e-4
    assert gd.degree_of_consolidation(T, terms=5000) == pytest.approx(
        math.sqrt(4 * T / math.pi), rel=1e-3)
    assert gd.degree_of_consolidation(50.0) == pytest.approx(1.0)


@pytest.mark.parametrize("call, match", [
    (lambda: gd.biot(Phase.RESORPTION), "no poroelastic constants"),
    (lambda: gd.biot(17), "no poroelastic constants"),
    (lambda: gd.consolidation_time_s(Phase.FIBROUS, 0.0), "drainage_length_mm"),
    (lambda: gd.degree_of_consolidation(-1.0), ">= 0"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_module_doctest():
    import doctest

    assert doctest.testmod(gd).failed == 0
