"""Tissue differentiation in a fusion graft: mechanoregulation rules and an update about weekly.

One iteration of :func:`step`, vectorised over the graft elements (no Python loop over them)::

    strain (+ fluid velocity, + hydrostatic pressure)  ->  stimulus per element
    -> mean of the stimulus over the last k iterations  ->  target phase (:func:`classify`)
    -> maturity level moved towards the target by at most ``max_steps_per_week * dt_weeks``
    -> E and nu per element by a rule of mixtures (:func:`tissue_properties`)

Phases form an ordered ladder (:class:`Phase`); the state holds a continuous *maturity level*
per element (2.4 = 60 % cartilage, 40 % immature bone). The rule of mixtures between the two
neighbouring phases is how this module implements the design note of [LP02]/[RevWIREs] "smooth
the change in element properties with a rule of mixtures"; the reference gives no mixture
formula, so the linear (Voigt) mixture of neighbouring phases is a choice made here.

Fluid flow. spinesim is not poroelastic. The Prendergast-Lacroix stimulus S = gamma/a + v/b
needs the fluid velocity v relative to the solid, which the caller supplies as an explicit
array (mm/s). **With v = 0 the rule runs on the octahedral shear strain alone**: S is then a
lower bound of the poroelastic stimulus, which biases the prediction towards bone (optimistic
healing). No estimate of v is offered: with the [LP02] permeabilities the soft phases take
minutes to hours to drain over a graft's height, so under activity loads the fluid moves only
in a layer a few hundredths of a millimetre thick at the drained faces, far below any element
size of the segment (:mod:`spinesim.failure.graft_drainage`, which also gives the undrained
response those phases have at activity rates: ``tissue_properties(..., undrained=True)``,
``graft.drainage = "undrained"`` in a scenario).

Units: strain (-), fluid velocity mm/s, pressure and moduli MPa, time in weeks.

Sources (cited next to each value below):

- [LP02] Lacroix & Prendergast, J Biomech 35:1163 (2002), doi 10.1016/S0021-9290(02)00086-6,
  tissue table as tabulated in [RevWIREs], review of mechanobiological healing models, WIREs
  Syst Biol Med, PMC5082538 (row "Lacroix and Prendergast" and the Geris et al. variant).
- [Prendergast97] Prendergast et al., J Biomech 30:539 (1997), doi 10.1016/S0021-9290(96)00140-6.
- [CH99] Claes & Heigele, J Biomech 32:255 (1999), doi 10.1016/S0021-9290(98)00153-5.
- [Perren] Perren's interfragmentary-strain theory, values as given in secondary teaching
  summaries (primary paper not named there).

>>> s = initial_state(3, PrendergastLacroix(), n_average=1)
>>> s = step(s, np.zeros((3, 3, 3)), 0.0, PrendergastLacroix(), dt_weeks=1.0)
>>> s.phase.tolist()                      # one step per week: granulation -> fibrous
[1, 1, 1]
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Protocol

import numpy as np
from numpy.typing import ArrayLike

log = logging.getLogger(__name__)

__all__ = [
    "GRANULATION_E_RANGE_MPA", "PHASE_E_MPA", "PHASE_NU", "ClaesHeigele", "HealingState",
    "Phase", "PrendergastLacroix", "Rule", "StrainWindow", "averaged_stimulus", "classify",
    "hydrostatic_pressure", "initial_state", "max_abs_principal_strain",
    "octahedral_shear_strain", "perren", "prendergast_stimulus", "rate_limited",
    "resorption_window_share", "step",
    "tissue_properties", "volume_quantile",
]


class Phase(IntEnum):
    """Tissue phases in maturity order; a rate-limited element moves one rung at a time.

    RESORPTION sits above MATURE_BONE: it is the removal of bone (Prendergast-Lacroix S < 0.01),
    reached only from bone. It is off by default because no property of resorbed tissue is
    sourced (the timeline's ``healing.prendergast.resorption`` gives it marrow's).
    """

    GRANULATION = 0
    FIBROUS = 1
    CARTILAGE = 2
    IMMATURE_BONE = 3
    MATURE_BONE = 4
    RESORPTION = 5


def _readonly(a: list[float]) -> np.ndarray:
    arr = np.array(a, dtype=float)
    arr.flags.writeable = False
    return arr


# Moduli E (MPa) and Poisson ratios of the healing tissues: [LP02] as tabulated in [RevWIREs],
# found in source, H. Granulation 0.2 MPa is the [LP02] value; the Geris et al. variant uses
# 1 MPa ([RevWIREs], found, H) - exposed as ``granulation_E_mpa`` with GRANULATION_E_RANGE_MPA.
#   granulation 0.2 / 0.167; fibrous 2 / 0.167; cartilage 10 / 0.167;
#   immature bone 1 000 / 0.3; mature bone 6 000 / 0.3 ([LP02] via [RevWIREs], H).
# Resorbed tissue: not sourced here -> NaN, the caller must supply it (no default).
PHASE_E_MPA = _readonly([0.2, 2.0, 10.0, 1_000.0, 6_000.0, np.nan])
PHASE_NU = _readonly([0.167, 0.167, 0.167, 0.3, 0.3, np.nan])
#: Span of granulation-tissue modulus, [LP02] 0.2 MPa to Geris et al. 1 MPa ([RevWIREs]).
GRANULATION_E_RANGE_MPA = (0.2, 1.0)


# ------------------------------------------------------------------------------ measures
def octahedral_shear_strain(strain: ArrayLike) -> np.ndarray:
    """Octahedral shear strain of small-strain tensors (..., 3, 3) (tensor, not engineering,
    shear components): gamma_oct = 2/3 sqrt((e1-e2)^2 + (e2-e3)^2 + (e3-e1)^2) = 2 sqrt(e':e'/3)
    with e' the deviator.

    >>> float(octahedral_shear_strain(np.diag([0.03, 0.0, 0.0])).round(6))   # 2/3 sqrt(2) 0.03
    0.028284
    """
    e = np.asarray(strain, dtype=float)
    dev = e - (np.trace(e, axis1=-2, axis2=-1) / 3.0)[..., None, None] * np.eye(3)
    return 2.0 * np.sqrt(np.einsum("...ij,...ij->...", dev, dev) / 3.0)


def volume_quantile(values: ArrayLike, volume: ArrayLike, q: float) -> float:
    """Volume-weighted quantile of per-element values: the smallest value v such that the
    elements with values <= v hold at least the share ``q`` of the total volume.

    Unlike the maximum over elements, which at a stiff-soft corner grows as the mesh is refined
    (a strain singularity concentrated in ever smaller elements), a volume quantile converges
    with the field. Units are those of ``values``; ``volume`` in any consistent unit (> 0).

    >>> volume_quantile([0.01, 0.02, 0.03], [1.0, 1.0, 2.0], 0.5)
    0.02
    >>> volume_quantile([0.01, 0.02, 0.03], [1.0, 1.0, 2.0], 0.51)
    0.03
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(volume, dtype=float).ravel()
    if v.shape != w.shape or v.size == 0:
        raise ValueError(f"volume_quantile needs one volume per value, got {v.size} values and "
                         f"{w.size} volumes")
    if not (0.0 <= q <= 1.0):
        raise ValueError(f"q = {q!r} is out of range; allowed range [0, 1]")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(w)) and np.all(w > 0)):
        raise ValueError("volume_quantile needs finite values and finite volumes > 0")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1.0 - 1e-12), side="left"))
    return float(v[order][min(k, v.size - 1)])


def max_abs_principal_strain(strain: ArrayLike) -> np.ndarray:
    """Largest magnitude of the principal strains of tensors (..., 3, 3) (-)."""
    return np.abs(np.linalg.eigvalsh(np.asarray(strain, dtype=float))).max(axis=-1)


def hydrostatic_pressure(stress: ArrayLike) -> np.ndarray:
    """Hydrostatic pressure p = -tr(sigma)/3 (MPa) of stress tensors (..., 3, 3); compression is
    positive (e.g. from ``BlockField.stress`` of :func:`spinesim.fem.post.solid_fields`)."""
    return -np.trace(np.asarray(stress, dtype=float), axis1=-2, axis2=-1) / 3.0


def prendergast_stimulus(strain: ArrayLike, fluid_velocity: ArrayLike, a: float = 0.0375,
                         b_mm_s: float = 0.003) -> np.ndarray:
    """Prendergast-Lacroix stimulus S = gamma_oct/a + |v|/b (-).

    a = 0.0375 and b = 3 um/s = 0.003 mm/s: [Prendergast97]; [LP02] (from the literature, not
    re-checked, H).

    Parameters
    ----------
    strain : (..., 3, 3) small-strain tensors (-)
    fluid_velocity : broadcastable to strain.shape[:-2], mm/s, magnitude of the fluid velocity
        relative to the solid (sign ignored). Pass 0 when no poroelastic solve is available: S
        then is gamma/a alone (see module docstring).
    """
    v = np.abs(np.asarray(fluid_velocity, dtype=float))
    return octahedral_shear_strain(strain) / a + v / b_mm_s


# ------------------------------------------------------------------------------ rules
class Rule(Protocol):
    """A mechanoregulation rule: stimulus columns from the mechanics, target phase from them."""

    n_stimuli: ClassVar[int]

    def stimulus(self, strain: np.ndarray, fluid_velocity: np.ndarray,
                 pressure_mpa: np.ndarray | None) -> np.ndarray:
        """Stimulus columns (..., n_stimuli) from small-strain tensors (..., 3, 3) (-), the
        fluid velocity (mm/s) and the hydrostatic pressure (MPa, compression positive;
        None if not computed), each broadcast to ``strain.shape[:-2]``."""
        ...

    def classify(self, stimulus: np.ndarray) -> np.ndarray:
        """Target phase (int, :class:`Phase` values) per row of ``stimulus``."""
        ...


@dataclass(frozen=True)
class PrendergastLacroix:
    """Prendergast-Lacroix rule on S = gamma/a + v/b ([Prendergast97]; [LP02]; H).

    Windows ([Prendergast97]; [LP02], from the literature, not re-checked, H): S > 3 fibrous;
    1 < S < 3 cartilage; 0.267 < S < 1 immature bone; 0.01 < S < 0.267 mature bone; S < 0.01
    resorption. A value exactly on a bound goes to the lower window (``S == 3`` -> cartilage).

    ``resorption=False`` (default) maps S <= 0.01 to mature bone, because the modulus of
    resorbed tissue is not sourced; with ``True`` it maps to Phase.RESORPTION and
    :func:`tissue_properties` then needs ``resorption_E_mpa`` and ``resorption_nu``.
    """

    a: float = 0.0375
    b_mm_s: float = 0.003
    bounds: tuple[float, float, float, float] = (0.01, 0.267, 1.0, 3.0)
    resorption: bool = False
    n_stimuli: ClassVar[int] = 1

    def stimulus(self, strain: np.ndarray, fluid_velocity: ArrayLike,
                 pressure_mpa: ArrayLike | None = None) -> np.ndarray:
        """Stimulus S (..., 1) (-) from strains (..., 3, 3) (-) and the fluid velocity (mm/s);
        ``pressure_mpa`` is ignored."""
        return prendergast_stimulus(strain, fluid_velocity, self.a, self.b_mm_s)[..., None]

    def classify(self, stimulus: np.ndarray) -> np.ndarray:
        """Phase per row of S (..., 1) by the windows of ``bounds``."""
        low = Phase.RESORPTION if self.resorption else Phase.MATURE_BONE
        table = np.array([low, Phase.MATURE_BONE, Phase.IMMATURE_BONE, Phase.CARTILAGE,
                          Phase.FIBROUS])
        return table[np.digitize(stimulus[..., 0], self.bounds, right=True)]


@dataclass(frozen=True)
class ClaesHeigele:
    """Claes-Heigele rule on (|strain|, hydrostatic pressure) ([CH99], from the literature, not
    re-checked; exact wording of the thresholds to be checked in the paper, M-H).

    Intramembranous bone if |strain| < 5 % and |p| < 0.15 MPa; endochondral ossification (via
    cartilage) if compressive p > 0.15 MPa and |strain| < 15 %; otherwise fibrous (connective)
    tissue. Inequalities are strict as in the source: a value on a threshold fails that test.

    Choices made here (document them when you report results): "strain" is the principal strain
    of largest magnitude; the endochondral route targets ``endochondral_phase`` (cartilage) and
    intramembranous bone targets ``bone_phase`` (mature bone, reached through immature bone by
    the rate limit). The thresholds are parameters (the source says "about 5 % / 15 %").
    """

    bone_strain: float = 0.05
    cartilage_strain: float = 0.15
    pressure_mpa: float = 0.15
    bone_phase: Phase = Phase.MATURE_BONE
    endochondral_phase: Phase = Phase.CARTILAGE
    n_stimuli: ClassVar[int] = 2

    def stimulus(self, strain: np.ndarray, fluid_velocity: ArrayLike,
                 pressure_mpa: ArrayLike | None = None) -> np.ndarray:
        """Stimuli (..., 2): the largest principal strain magnitude (-) and the hydrostatic
        pressure ``pressure_mpa`` (MPa, compression positive; required) of strains
        (..., 3, 3) (-); ``fluid_velocity`` is ignored."""
        if pressure_mpa is None:
            raise ValueError("ClaesHeigele needs pressure_mpa (hydrostatic pressure, MPa, "
                             "compression positive); get it with hydrostatic_pressure(stress)")
        eps = max_abs_principal_strain(strain)
        p = np.broadcast_to(np.asarray(pressure_mpa, dtype=float), eps.shape)
        return np.stack([eps, p], axis=-1)

    def classify(self, stimulus: np.ndarray) -> np.ndarray:
        """Phase per row of (strain (-), pressure (MPa)) (..., 2), by the thresholds."""
        eps, p = stimulus[..., 0], stimulus[..., 1]
        bone = (eps < self.bone_strain) & (np.abs(p) < self.pressure_mpa)
        endo = ~bone & (p > self.pressure_mpa) & (eps < self.cartilage_strain)
        out = np.full(eps.shape, int(Phase.FIBROUS))
        out[endo] = self.endochondral_phase
        out[bone] = self.bone_phase
        return out


@dataclass(frozen=True)
class StrainWindow:
    """A strain-window rule: ``phases[i]`` where ``bounds[i-1] <= measure < bounds[i]``.

    No default thresholds: use a sourced preset (:func:`perren`) or supply your own with their
    source. ``measure`` is ``"max_abs_principal"`` or ``"octahedral_shear"``. A value exactly on
    a bound goes to the upper window (2 % -> the 2-10 % window, as Perren's "< 2 % bone").
    """

    bounds: tuple[float, ...]
    phases: tuple[Phase, ...]
    measure: str = "max_abs_principal"
    n_stimuli: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if len(self.phases) != len(self.bounds) + 1:
            raise ValueError(f"StrainWindow: phases needs len(bounds) + 1 = {len(self.bounds) + 1}"
                             f" entries, got {len(self.phases)}")
        if np.any(np.diff(self.bounds) <= 0):
            raise ValueError(f"StrainWindow: bounds must increase, got {self.bounds}")
        if self.measure not in ("max_abs_principal", "octahedral_shear"):
            raise ValueError(f"StrainWindow: measure must be 'max_abs_principal' or "
                             f"'octahedral_shear', got {self.measure!r}")

    def stimulus(self, strain: np.ndarray, fluid_velocity: ArrayLike,
                 pressure_mpa: ArrayLike | None = None) -> np.ndarray:
        """The strain ``measure`` (..., 1) (-) of strains (..., 3, 3) (-); ``fluid_velocity``
        and ``pressure_mpa`` are ignored."""
        f = max_abs_principal_strain if self.measure == "max_abs_principal" \
            else octahedral_shear_strain
        return f(strain)[..., None]

    def classify(self, stimulus: np.ndarray) -> np.ndarray:
        """Phase per row of the measure (..., 1) (-) by the windows of ``bounds``."""
        table = np.array([int(p) for p in self.phases])
        return table[np.digitize(stimulus[..., 0], self.bounds)]


def perren(bone_phase: Phase = Phase.MATURE_BONE) -> StrainWindow:
    """Perren's interfragmentary-strain windows ([Perren], found in source, secondary summaries,
    H): < 2 % bone; 2-10 % fibrocartilage; 10-100 % granulation tissue; > 100 % no tissue.

    Approximations: the interfragmentary (gap) strain is replaced by the element's largest
    principal strain; fibrocartilage maps to Phase.CARTILAGE; "no tissue" (> 100 %) has no phase
    in spinesim and is held at Phase.GRANULATION, the weakest one.
    """
    return StrainWindow((0.02, 0.10, 1.0),
                        (bone_phase, Phase.CARTILAGE, Phase.GRANULATION, Phase.GRANULATION))


def classify(stimulus: ArrayLike, rule: Rule) -> np.ndarray:
    """Target phase (int, :class:`Phase` values) per element of stimuli (n, rule.n_stimuli)."""
    s = np.asarray(stimulus, dtype=float)
    if s.ndim == 1 and rule.n_stimuli == 1:
        s = s[:, None]
    if s.shape[-1] != rule.n_stimuli:
        raise ValueError(f"classify: {type(rule).__name__} takes {rule.n_stimuli} stimulus "
                         f"column(s), got shape {s.shape}")
    return rule.classify(s)


# ------------------------------------------------------------------------------ state
@dataclass(frozen=True, eq=False)
class HealingState:
    """Healing state of the graft elements.

    level : (n,) maturity level in [0, 5] (Phase values; fractions mix neighbouring phases)
    history : (k, n, m) last k stimuli, oldest first (only the last ``n_filled`` are valid)
    n_filled : number of valid history entries (<= k)
    time_weeks : time since surgery (weeks)
    """

    level: np.ndarray
    history: np.ndarray
    n_filled: int = 0
    time_weeks: float = 0.0

    @property
    def phase(self) -> np.ndarray:
        """Dominant phase per element (nearest rung; x.5 rounds up), int (n,)."""
        return np.floor(self.level + 0.5).astype(int)

    def is_bone(self, minimum: Phase = Phase.IMMATURE_BONE) -> np.ndarray:
        """Elements whose dominant phase is bone (``minimum`` .. MATURE_BONE), bool (n,)."""
        ph = self.phase
        return (ph >= minimum) & (ph <= Phase.MATURE_BONE)


def initial_state(n_elements: int, rule: Rule, *, n_average: int,
                  phase: Phase = Phase.GRANULATION) -> HealingState:
    """Start state: every element in ``phase`` (graft at day 0 = granulation tissue, derived
    here from [LP02]), empty history of ``n_average`` iterations.

    ``n_average`` (k >= 1, no default: the reference gives no averaging window) is how many
    past iterations the stimulus is averaged over; 1 means no averaging.
    """
    if int(n_average) < 1:
        raise ValueError(f"initial_state: n_average must be >= 1, got {n_average}")
    return HealingState(np.full(int(n_elements), float(phase)),
                        np.zeros((int(n_average), int(n_elements), rule.n_stimuli)), 0, 0.0)


def averaged_stimulus(history: np.ndarray, n_filled: int) -> np.ndarray:
    """Mean of the last ``n_filled`` stimuli of a (k, n, m) history, (n, m)."""
    if n_filled < 1:
        raise ValueError("averaged_stimulus: the history is empty")
    return history[history.shape[0] - n_filled:].mean(axis=0)


def resorption_window_share(state: HealingState, rule: Rule, volume: ArrayLike) -> float | None:
    """Volume share (-) of the graft elements whose stimulus, averaged as the rule classifies
    it (:func:`averaged_stimulus` of the state's history), lies in the Prendergast-Lacroix
    resorption window (S <= the rule's lowest bound, 0.01): bone so little strained that the
    rule would remove it. With ``resorption=False`` (the timeline's) those elements count
    as mature bone, so this share is what that choice hides: in a cage the fused graft is
    stress-shielded into the window. None for a rule without such a window (Claes-Heigele,
    strain windows) or a state with no stimulus yet; ``volume`` (n,) in any unit (> 0).

    >>> rule = PrendergastLacroix()
    >>> s = initial_state(2, rule, n_average=1)
    >>> s = step(s, np.stack([np.diag([1e-4, 0, -1e-4]), np.diag([1e-2, 0, -1e-2])]), 0.0,
    ...          rule, 1.0)
    >>> resorption_window_share(s, rule, [1.0, 3.0])
    0.25
    """
    if not isinstance(rule, PrendergastLacroix) or state.n_filled < 1:
        return None
    vol = np.asarray(volume, dtype=float).ravel()
    if vol.shape != state.level.shape or not np.all(vol > 0):
        raise ValueError(f"resorption_window_share: volume needs one value > 0 per graft "
                         f"element ({len(state.level)}), got shape {vol.shape}")
    s = averaged_stimulus(state.history, state.n_filled)[:, 0]
    return float(vol[s <= rule.bounds[0]].sum() / vol.sum())


def rate_limited(level: np.ndarray, target: np.ndarray, dt_weeks: float,
                 max_steps_per_week: float = 1.0) -> np.ndarray:
    """Move ``level`` towards ``target`` by at most ``max_steps_per_week * dt_weeks`` rungs
    (``dt_weeks`` in weeks).

    One rung per week is a modelling choice made here (the reference gives no rate; it advises
    updating about weekly); vary it in sensitivity studies.
    """
    d = max_steps_per_week * dt_weeks
    return level + np.clip(np.asarray(target, dtype=float) - level, -d, d)


def tissue_properties(level: ArrayLike, *, granulation_E_mpa: float = PHASE_E_MPA[0],
                      resorption_E_mpa: float | None = None,
                      resorption_nu: float | None = None,
                      undrained: bool = False,
                      cells: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """E (MPa) and nu per element from the maturity level by a linear rule of mixtures of the
    two neighbouring phases (values: :data:`PHASE_E_MPA`, :data:`PHASE_NU`, [LP02]).

    Parameters
    ----------
    granulation_E_mpa : granulation modulus, range GRANULATION_E_RANGE_MPA (0.2-1 MPa)
    resorption_E_mpa, resorption_nu : properties of resorbed tissue, not sourced (no default);
        required only if some level exceeds MATURE_BONE.
    undrained : the phases' undrained elastic constants instead of the drained ones (the
        tissue loaded faster than it drains; Biot with the [LP02] poroelastic constants,
        :func:`spinesim.failure.graft_drainage.undrained_poisson`): the undrained Poisson's
        ratio, and the Young's modulus ``E (1 + nu_u) / (1 + nu)`` that keeps the shear
        modulus, which the pore fluid does not change.
    cells : cell concentration per element (0-1, fraction of the maximum;
        :mod:`spinesim.failure.cell_migration`), or None (cells everywhere): E and nu are then
        ``c x (tissue of the level) + (1 - c) x (granulation tissue)``, the rule of mixtures of
        [LP02] (from the literature, not re-checked) for tissue not yet reached by cells.
    """
    lv = np.asarray(level, dtype=float)
    E = np.array(PHASE_E_MPA)
    nu = np.array(PHASE_NU)
    E[Phase.GRANULATION] = granulation_E_mpa
    if undrained:
        from spinesim.failure.graft_drainage import POROELASTIC, undrained_poisson

        for p in POROELASTIC:
            nu_u = undrained_poisson(p, E[p])
            E[p] *= (1.0 + nu_u) / (1.0 + nu[p])
            nu[p] = nu_u
    if np.any(lv > Phase.MATURE_BONE):
        if resorption_E_mpa is None or resorption_nu is None:
            raise ValueError("tissue_properties: levels above MATURE_BONE need resorption_E_mpa "
                             "and resorption_nu (not sourced here; no default)")
        E[Phase.RESORPTION], nu[Phase.RESORPTION] = resorption_E_mpa, resorption_nu
    lo = np.clip(np.floor(lv), 0, Phase.MATURE_BONE).astype(int)
    f = lv - lo
    hi = np.minimum(lo + 1, Phase.RESORPTION)
    E_hi = np.where(f > 0, E[hi], 0.0)
    nu_hi = np.where(f > 0, nu[hi], 0.0)
    E_mix, nu_mix = (1 - f) * E[lo] + f * E_hi, (1 - f) * nu[lo] + f * nu_hi
    if cells is None:
        return E_mix, nu_mix
    c = np.asarray(cells, dtype=float)
    if c.shape != lv.shape or not (np.all(np.isfinite(c)) and c.min(initial=0.0) >= 0.0
                                   and c.max(initial=0.0) <= 1.0):
        raise ValueError(f"tissue_properties: cells needs one concentration in [0, 1] per "
                         f"level ({lv.shape}), got shape {c.shape}")
    return (c * E_mix + (1 - c) * E[Phase.GRANULATION],
            c * nu_mix + (1 - c) * nu[Phase.GRANULATION])


def _element_stimulus(rule: Rule, strain: np.ndarray, fluid_velocity: ArrayLike,
                      pressure_mpa: ArrayLike | None, weights: ArrayLike | None) -> np.ndarray:
    v = np.broadcast_to(np.asarray(fluid_velocity, dtype=float), strain.shape[:-2])
    p = None if pressure_mpa is None else \
        np.broadcast_to(np.asarray(pressure_mpa, dtype=float), strain.shape[:-2])
    s = rule.stimulus(strain, v, p)
    if strain.ndim == 4:  # quadrature points: stimulus per point, then a weighted element mean
        w = np.ones(strain.shape[:2]) if weights is None else np.asarray(weights, dtype=float)
        s = np.einsum("eq,eqm->em", w, s) / w.sum(axis=1)[:, None]
    return s


def step(state: HealingState, strain: ArrayLike, fluid_velocity: ArrayLike, rule: Rule,
         dt_weeks: float, *, pressure_mpa: ArrayLike | None = None,
         weights: ArrayLike | None = None, max_steps_per_week: float = 1.0) -> HealingState:
    """One healing iteration; returns a new state (pure, vectorised).

    Parameters
    ----------
    state : current state of the n graft elements
    strain : (n, 3, 3) element strains, or (n, n_q, 3, 3) at quadrature points (e.g.
        ``BlockField.strain`` rows of the graft cells); the stimulus is then computed per point
        and averaged with ``weights`` (n, n_q) (e.g. ``BlockField.weights``; equal if None)
    fluid_velocity : mm/s, broadcastable to the strain's leading shape; 0 if unknown
        (Prendergast-Lacroix then runs on shear strain alone). Ignored by the other rules.
    rule : PrendergastLacroix, ClaesHeigele or StrainWindow
    dt_weeks : time step (weeks), > 0
    pressure_mpa : hydrostatic pressure, compression positive (ClaesHeigele only)
    max_steps_per_week : rate limit in phase rungs per week (see :func:`rate_limited`)
    """
    if not dt_weeks > 0:
        raise ValueError(f"step: dt_weeks must be > 0, got {dt_weeks}")
    eps = np.asarray(strain, dtype=float)
    n = len(state.level)
    if eps.ndim not in (3, 4) or eps.shape[0] != n or eps.shape[-2:] != (3, 3):
        raise ValueError(f"step: strain must have shape ({n}, 3, 3) or ({n}, n_q, 3, 3), "
                         f"got {eps.shape}")
    if state.history.shape[2] != rule.n_stimuli:
        raise ValueError(f"step: the state was made for a rule with {state.history.shape[2]} "
                         f"stimulus column(s); {type(rule).__name__} has {rule.n_stimuli}")
    s = _element_stimulus(rule, eps, fluid_velocity, pressure_mpa, weights)
    history = np.concatenate([state.history[1:], s[None]], axis=0)
    n_filled = min(state.n_filled + 1, history.shape[0])
    target = classify(averaged_stimulus(history, n_filled), rule)
    level = rate_limited(state.level, target, dt_weeks, max_steps_per_week)
    return dataclasses.replace(state, level=level, history=history, n_filled=n_filled,
                               time_weeks=state.time_weeks + dt_weeks)
