"""Figures of fatigue, healing and sweep results: S-N curve, damage, graft healing, ROM, the
race, failure-probability heatmap, tornado chart and the mid-sagittal von Mises slice.

Every function takes plain arrays (no spinesim objects except the S-N curve and the mesh of
the slice), draws on ``ax``
when given (else on a new 7 x 4.5 inch figure) and returns the Axes; none calls ``plt.show()``.
matplotlib is imported inside the functions so that ``import spinesim.plot`` stays fast.
Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); lines also differ in style where colour alone would carry meaning.

Input errors raise ValueError naming the argument (lengths, NaN/inf, negative values, ranges).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "OKABE_ITO", "bone_fraction_over_weeks", "damage_over_time", "failure_heatmap", "race",
    "rom_bars", "sagittal_section", "sagittal_von_mises", "sn_curve",
    "tissue_phases_over_weeks", "tornado",
]

#: Okabe-Ito colour-blind-safe palette (black first, yellow last: weak on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442")
_BLUE, _VERMILLION, _GREEN, _PURPLE, _ORANGE, _SKY, _BLACK, _YELLOW = OKABE_ITO
FIGSIZE_IN = (7.0, 4.5)


# ------------------------------------------------------------------------------ helpers
def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=FIGSIZE_IN, layout="constrained")
    return ax


def _array(name: str, value: ArrayLike, *, ndim: int | tuple[int, ...] = 1,
           nonneg: bool = False, increasing: bool = False) -> np.ndarray:
    """Float array checked for dimension, NaN/inf, sign and (1-D) non-decreasing order."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {value!r}") from exc
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in dims:
        raise ValueError(f"{name} must be {' or '.join(f'{d}-D' for d in dims)}, got shape "
                         f"{a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    bad = ~np.isfinite(a)
    if np.any(bad):
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite, got {a[i]} at index {i}")
    if nonneg and np.any(a < 0):
        i = tuple(int(j) for j in np.argwhere(a < 0)[0])
        raise ValueError(f"{name} must be >= 0, got {a[i]} at index {i}")
    if increasing and a.ndim == 1 and np.any(np.diff(a) < 0):
        i = int(np.flatnonzero(np.diff(a) < 0)[0]) + 1
        raise ValueError(f"{name} must be non-decreasing, got {a[i]} after {a[i - 1]} at "
                         f"index {i}")
    return a


def _same_length(name: str, a: np.ndarray, ref_name: str, n: int) -> None:
    if a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} rows/values but {ref_name} has {n}")


def _scalar(name: str, value: Any, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, "
                         f"got {value!r}")
    return v


def _fraction(name: str, value: ArrayLike, **kw: Any) -> np.ndarray:
    a = _array(name, value, nonneg=True, **kw)
    if np.any(a > 1.0 + 1e-9):
        raise ValueError(f"{name} must be a fraction in [0, 1] (not percent), got max "
                         f"{a.max():g}")
    return a


def _first_crossing(t: np.ndarray, y: np.ndarray, level: float = 1.0) -> float | None:
    """First t where y reaches ``level`` (linear interpolation), None if never."""
    hit = np.flatnonzero(y >= level)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0 or y[i] == y[i - 1]:
        return float(t[i])
    return float(t[i - 1] + (level - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


def _fmt_cycles(n: float) -> str:
    if not math.isfinite(n):
        return "infinite"
    mantissa, exponent = f"{n:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _fmt_years(y: float) -> str:
    if y < 1.0:
        return f"{y * 52.18:.0f} weeks"
    return f"{y:.3g} years"


# ------------------------------------------------------------------------------ 1. S-N curve
def sn_curve(curve: Any, operating_points: Mapping[str, tuple[float, float]] | None = None,
             ax: Axes | None = None, *, n_range: tuple[float, float] = (1e3, 1e9)) -> Axes:
    """Log-log S-N curve with its endurance limit, its knee and the lives of operating points.

    The curve drawn is the one the damage sums use, knock-down factors included
    (``curve.amplitude_at``). The endurance limit is a dashed horizontal line labelled with its
    value, the knee a circle at (``knee_cycles``, effective endurance limit).

    Operating points are drawn where they sit *on the curve*: a dotted horizontal line at the
    point's amplitude runs from the left edge to its life ``N = curve.cycles_to_failure``, with
    a marker there and ``N`` and the service life ``N / cycles_per_year`` annotated. An amplitude
    below the endurance limit has no failure point; its line runs to the right edge and ends in
    an arrow, annotated "no failure". This shows how far each point is from failure along the
    cycles axis, which is what the S-N curve can honestly say; it does not fix a service time.

    Parameters
    ----------
    curve : SNCurve
        Any object with ``amplitude_at``, ``cycles_to_failure``, ``endurance_effective_mpa``,
        ``knee_cycles`` and ``name`` (see :class:`spinesim.failure.fatigue.SNCurve`).
    operating_points : dict label -> (sigma_a_mpa, cycles_per_year), optional
        Fully reversed (mean-stress corrected) stress amplitude (MPa, > 0) and cycles per year
        (> 0) of each load case.
    ax : Axes, optional
    n_range : (float, float)
        Cycles axis range; default 1e3 to 1e9.

    Returns
    -------
    Axes
    """
    lo_n, hi_n = (_scalar("n_range", v, positive=True) for v in n_range)
    if not lo_n < hi_n:
        raise ValueError(f"n_range must be (low, high) with low < high, got {n_range}")
    points: list[tuple[str, float, float]] = []
    for label, value in (operating_points or {}).items():
        try:
            sa, cpy = value
        except (TypeError, ValueError) as exc:
            raise ValueError(f"operating_points[{label!r}] must be (sigma_a_mpa, "
                             f"cycles_per_year), got {value!r}") from exc
        points.append((str(label), _scalar(f"operating_points[{label!r}] sigma_a_mpa", sa,
                                           positive=True),
                       _scalar(f"operating_points[{label!r}] cycles_per_year", cpy,
                               positive=True)))
    ax = _axes(ax)
    n = np.logspace(math.log10(lo_n), math.log10(hi_n), 400)
    s = np.asarray(curve.amplitude_at(n), dtype=float)
    ax.loglog(n, s, color=_BLUE, lw=2.2, label=f"S-N curve ({curve.name})")
    endurance = float(curve.endurance_effective_mpa)
    knee = float(curve.knee_cycles)
    if endurance > 0:
        ax.axhline(endurance, color=_BLACK, ls="--", lw=1.2,
                   label=f"endurance limit {endurance:.0f} MPa")
        ax.annotate(f"endurance limit {endurance:.0f} MPa", (hi_n, endurance),
                    xytext=(-4, -4), textcoords="offset points", ha="right", va="top",
                    fontsize=9)
        if lo_n <= knee <= hi_n:
            ax.plot([knee], [endurance], "o", ms=8, mfc="white", mec=_BLUE, mew=2,
                    label=f"knee at {_fmt_cycles(knee)} cycles", zorder=4)
    markers = "sD^vP*X"
    for k, (label, sa, cpy) in enumerate(points):
        colour = OKABE_ITO[1 + k % (len(OKABE_ITO) - 2)]
        nf = float(np.asarray(curve.cycles_to_failure(sa)))
        if math.isfinite(nf):
            x_end = min(max(nf, lo_n), hi_n)
            text = f"{label}: N = {_fmt_cycles(nf)} cycles = {_fmt_years(nf / cpy)}"
            ax.plot([lo_n, x_end], [sa, sa], ls=":", lw=1.5, color=colour)
            ax.plot([x_end], [sa], markers[k % len(markers)], ms=8, color=colour, zorder=5,
                    label=text)
        else:
            text = f"{label}: below endurance limit, no failure"
            ax.plot([lo_n, hi_n], [sa, sa], ls=":", lw=1.5, color=colour)
            ax.plot([hi_n], [sa], ">", ms=8, color=colour, zorder=5, clip_on=False,
                    label=text)
        ax.annotate(label, (lo_n, sa), xytext=(4, 3), textcoords="offset points",
                    fontsize=9, color=colour, va="bottom")
    ax.set_xlim(lo_n, hi_n)
    ax.set_xlabel("cycles to failure N (-)")
    ax.set_ylabel("stress amplitude $\\sigma_a$ (MPa, R = -1)")
    ax.set_title(f"S-N curve, {curve.name}")
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    # plain MPa numbers (not 4 x 10^2) on the short log stress axis
    ax.yaxis.set_major_formatter(ScalarFormatter())
    lo_s, hi_s = ax.get_ylim()
    if hi_s / lo_s < 20:
        ax.yaxis.set_minor_locator(LogLocator(subs="all"))
        ax.yaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="y", which="minor", labelsize=8)
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return ax


# ------------------------------------------------------------------------------ 2. damage
def damage_over_time(t_years: ArrayLike, damage: ArrayLike,
                     labels: Sequence[str] | None = None, ax: Axes | None = None, *,
                     yscale: str = "linear") -> Axes:
    """Cumulative Palmgren-Miner damage against time, with the failure line D = 1.

    Where a curve reaches D = 1 the crossing time (linear interpolation between samples) is
    marked and annotated.

    Parameters
    ----------
    t_years : array (n,)
        Time (years, >= 0, non-decreasing).
    damage : array (n,) or (n, n_locations)
        Cumulative damage D (-, >= 0) at each time; one column per location.
    labels : sequence of str, optional
        One per location (default "location 1", ...).
    ax : Axes, optional
    yscale : "linear" or "log"
        Linear (default) shows the constant damage rate of a repeated load block as a straight
        line; use "log" when the damage is orders of magnitude below 1.

    Returns
    -------
    Axes
    """
    t = _array("t_years", t_years, nonneg=True, increasing=True)
    d = _array("damage", damage, ndim=(1, 2), nonneg=True)
    if d.ndim == 1:
        d = d[:, None]
    _same_length("damage", d, "t_years", t.size)
    labels = [f"location {i + 1}" for i in range(d.shape[1])] if labels is None else \
        [str(s) for s in labels]
    if len(labels) != d.shape[1]:
        raise ValueError(f"labels has {len(labels)} entries but damage has {d.shape[1]} "
                         f"locations (columns)")
    if yscale not in ("linear", "log"):
        raise ValueError(f"yscale must be 'linear' or 'log', got {yscale!r}")
    ax = _axes(ax)
    styles = ("-", "--", "-.", (0, (5, 1, 1, 1)))
    for j, label in enumerate(labels):
        colour = OKABE_ITO[j % (len(OKABE_ITO) - 1)]
        y = d[:, j]
        if yscale == "log":
            y = np.where(y > 0, y, np.nan)
        tc = _first_crossing(t, d[:, j])
        ax.plot(t, y, color=colour, lw=2, ls=styles[j % len(styles)],
                label=label if tc is None else f"{label} (D = 1 at {tc:.3g} years)")
        if tc is not None:
            ax.axvline(tc, color=colour, ls=":", lw=1.2)
            ax.plot([tc], [1.0], "o", color=colour, ms=7, zorder=5)
            # below the D = 1 line, right of the crossing (left of it in the right half)
            right_half = tc > t[0] + 0.6 * (t[-1] - t[0])
            ax.annotate(f"{tc:.3g} years", (tc, 1.0), xytext=(-5 if right_half else 5, -5),
                        textcoords="offset points", ha="right" if right_half else "left",
                        va="top", fontsize=9, color=colour, fontweight="bold",
                        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1})
    ax.axhline(1.0, color=_BLACK, ls="--", lw=1.3, label="failure, D = 1")
    ax.set_yscale(yscale)
    if yscale == "linear":
        ax.set_ylim(0, max(1.15, 1.05 * float(d.max())))
    ax.set_xlim(float(t[0]), float(t[-1]))
    ax.set_xlabel("time (years)")
    ax.set_ylabel("cumulative Miner damage D (-)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, loc="upper left")
    return ax


# ------------------------------------------------------------------------------ 3. bone
def bone_fraction_over_weeks(weeks: ArrayLike, bone_fraction: ArrayLike,
                             bridged_week: float | None = None,
                             horizon_weeks: float | None = None,
                             ax: Axes | None = None,
                             levels: Mapping[str, ArrayLike] | None = None,
                             bridged_area: ArrayLike | None = None) -> Axes:
    """Bone volume fraction of the graft (%) against weeks, bridging and nonunion horizon.

    Parameters
    ----------
    weeks : array (n,)
        Time since surgery (weeks, >= 0, non-decreasing).
    bone_fraction : array (n,)
        Bone volume fraction of the graft, a fraction in [0, 1] (drawn in %).
    bridged_week : float, optional
        Week the graft first bridges the endplates: a vertical line labelled with it.
    horizon_weeks : float, optional
        Week after which an unbridged fusion counts as a nonunion: the time beyond it is
        shaded.
    ax : Axes, optional
    levels : dict name -> array (n,), optional
        A multi-level fusion: each level's own graft bone fraction (fraction in [0, 1]), drawn
        as a thin dashed line labelled with the level's name (e.g. ``"L3-L4"``).
    bridged_area : array (n,), optional
        Share of the fusion area bridged by bone, a fraction in [0, 1] (the timeline column
        ``graft_bridged_area_fraction``): a dotted line, with the CT grade I share (more than
        50 % of the fusion area, :data:`spinesim.failure.bridging.CT_GRADE_I_FRACTION`) as a
        thin horizontal line.

    Returns
    -------
    Axes
    """
    w = _array("weeks", weeks, nonneg=True, increasing=True)
    f = _fraction("bone_fraction", bone_fraction)
    _same_length("bone_fraction", f, "weeks", w.size)
    per_level = {}
    for name, values in (levels or {}).items():
        per_level[name] = _fraction(f"levels[{name!r}]", values)
        _same_length(f"levels[{name!r}]", per_level[name], "weeks", w.size)
    area = None
    if bridged_area is not None:
        area = _fraction("bridged_area", bridged_area)
        _same_length("bridged_area", area, "weeks", w.size)
    bw = None if bridged_week is None else _scalar("bridged_week", bridged_week)
    hw = None if horizon_weeks is None else _scalar("horizon_weeks", horizon_weeks)
    ax = _axes(ax)
    ax.plot(w, 100 * f, color=_BLUE, lw=2.2, label="graft bone fraction")
    for (name, fl), color in zip(per_level.items(),
                                 itertools.cycle((_SKY, _PURPLE, _ORANGE, _BLACK, _YELLOW))):
        ax.plot(w, 100 * fl, color=color, lw=1.3, ls="--", label=f"level {name}")
    if area is not None:
        from spinesim.failure.bridging import CT_GRADE_I_FRACTION

        ax.plot(w, 100 * area, color=_GREEN, lw=1.8, ls=":",
                label="fusion area bridged by bone")
        ax.axhline(100 * CT_GRADE_I_FRACTION, color=_GREEN, lw=0.8, alpha=0.6,
                   label=f"CT grade I above {100 * CT_GRADE_I_FRACTION:g} %")
    right = max(float(w[-1]), hw or 0.0, bw or 0.0)
    if hw is not None:
        ax.axvspan(hw, right * 1.06 if right > hw else hw + 1, color=_VERMILLION, alpha=0.12,
                   lw=0, label=f"nonunion if not bridged by week {hw:g}")
        ax.axvline(hw, color=_VERMILLION, lw=1, ls="-")
    if bw is not None:
        ax.axvline(bw, color=_GREEN, lw=2, ls="--", label=f"bridged at week {bw:g}")
        ax.annotate(f"bridged, week {bw:g}", (bw, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(4, -4), textcoords="offset points", color=_GREEN, fontsize=9,
                    va="top", fontweight="bold")
    ax.set_xlim(float(w[0]), right * 1.06 if hw is not None and hw >= right else right)
    ax.set_ylim(0, 100)
    ax.set_xlabel("time since surgery (weeks)")
    ax.set_ylabel("bone in graft (% of volume)" if area is None
                  else "bone in graft (% of volume or of fusion area)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, loc="lower right", framealpha=0.95)
    return ax


# ------------------------------------------------------------------------------ 4. phases
def tissue_phases_over_weeks(weeks: ArrayLike, fractions: ArrayLike,
                             phase_names: Sequence[Any], ax: Axes | None = None, *,
                             atol: float = 1e-6) -> Axes:
    """Stacked areas of the volume fraction (%) of each tissue phase in the graft.

    Parameters
    ----------
    weeks : array (n_weeks,)
        Time since surgery (weeks, >= 0, non-decreasing).
    fractions : array (n_weeks, n_phases)
        Volume fraction of each phase; every row sums to 1 (within ``atol``).
    phase_names : sequence (n_phases,)
        Names, in stacking order from the bottom; enum members (e.g.
        :class:`spinesim.failure.healing.Phase`) are shown by their name in lower case.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    w = _array("weeks", weeks, nonneg=True, increasing=True)
    fr = _array("fractions", fractions, ndim=2, nonneg=True)
    _same_length("fractions", fr, "weeks", w.size)
    names = [p.name.replace("_", " ").lower() if hasattr(p, "name") else str(p)
             for p in phase_names]
    if len(names) != fr.shape[1]:
        raise ValueError(f"phase_names has {len(names)} names but fractions has "
                         f"{fr.shape[1]} columns (phases)")
    sums = fr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"fractions rows must sum to 1 (within {atol:g}); row {i} (week "
                         f"{w[i]:g}) sums to {sums[i]:.6g}")
    ax = _axes(ax)
    colours = [OKABE_ITO[j % len(OKABE_ITO)] for j in (4, 1, 3, 5, 0, 2, 6, 7)][:len(names)]
    colours += [OKABE_ITO[j % len(OKABE_ITO)] for j in range(len(names) - len(colours))]
    ax.stackplot(w, 100 * fr.T, labels=names, colors=colours, alpha=0.9, edgecolor="white",
                 linewidth=0.5)
    ax.set_xlim(float(w[0]), float(w[-1]))
    ax.set_ylim(0, 100)
    ax.set_xlabel("time since surgery (weeks)")
    ax.set_ylabel("graft volume (%)")
    handles, labels = ax.get_legend_handles_labels()
    # top of the stack first, so the legend reads in the same order as the areas
    ax.legend(handles[::-1], labels[::-1], fontsize=9, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0, title="tissue phase")
    return ax


# ------------------------------------------------------------------------------ 5. ROM
def rom_bars(directions: Sequence[str], intact_deg: ArrayLike, fused_deg: ArrayLike,
             ax: Axes | None = None) -> Axes:
    """Grouped bars of range of motion, intact and fused, per load direction.

    Above each fused bar: the fused ROM as a percentage of the intact ROM.

    Parameters
    ----------
    directions : sequence of str (n,)
        Load directions, e.g. "flexion", "extension", "lateral bending", "axial rotation".
    intact_deg, fused_deg : array (n,)
        Range of motion (degrees, >= 0); intact values must be > 0.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    names = [str(d) for d in directions]
    if not names:
        raise ValueError("directions is empty")
    intact = _array("intact_deg", intact_deg, nonneg=True)
    fused = _array("fused_deg", fused_deg, nonneg=True)
    _same_length("intact_deg", intact, "directions", len(names))
    _same_length("fused_deg", fused, "directions", len(names))
    if np.any(intact == 0):
        raise ValueError(f"intact_deg must be > 0 (fused ROM is shown as % of it), got 0 for "
                         f"{names[int(np.flatnonzero(intact == 0)[0])]!r}")
    ax = _axes(ax)
    x = np.arange(len(names))
    width = 0.38
    ax.bar(x - width / 2, intact, width, color=_SKY, edgecolor=_BLACK, lw=0.6, label="intact")
    bars = ax.bar(x + width / 2, fused, width, color=_VERMILLION, edgecolor=_BLACK, lw=0.6,
                  hatch="//", label="fused")
    ax.bar_label(bars, labels=[f"{100 * f / i:.0f} %" for f, i in zip(fused, intact)],
                 padding=3, fontsize=9)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.15 * float(max(intact.max(), fused.max())))
    ax.set_ylabel("range of motion (degrees)")
    ax.set_xlabel("load direction")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize=9, loc="upper right", title="above bars: fused as % of intact",
              title_fontsize=8)
    return ax


# ------------------------------------------------------------------------------ 6. race
def race(weeks: ArrayLike, bone_fraction: ArrayLike, rod_damage: ArrayLike,
         bridged_week: float | None = None, ax: Axes | None = None, *,
         damage_scale: str = "log") -> Axes:
    """The race between fusion and rod fatigue: graft bone (%) and rod damage on one time axis.

    Left axis: bone volume fraction of the graft (%). Right axis: cumulative Miner damage of
    the rod with the failure line D = 1. Vertical lines mark the bridging week and the week the
    rod damage reaches 1; the title states who wins.

    The damage axis is logarithmic by default: during healing the rod damage is typically
    orders of magnitude below 1, and on a linear 0-1 axis it would lie flat on zero and hide how
    close the rod came (e.g. 1e-3 against 1e-1 at bridging). On a log axis the D = 1 line is a
    fixed reference and the distance to it reads as a safety factor on life. Zero damage cannot
    be drawn on it and is left out; if no value is > 0 the axis falls back to linear.

    Parameters
    ----------
    weeks : array (n,)
        Time since surgery (weeks, >= 0, non-decreasing).
    bone_fraction : array (n,)
        Bone volume fraction of the graft, a fraction in [0, 1] (drawn in %).
    rod_damage : array (n,)
        Cumulative Miner damage of the critical rod point (-, >= 0).
    bridged_week : float, optional
        Week the graft bridges.
    ax : Axes, optional
        Axes for the bone fraction; the damage goes on a twin (``ax.twinx()``), reachable as
        ``ax.spinesim_damage_axes``.
    damage_scale : "log" or "linear"

    Returns
    -------
    Axes
        The left (bone fraction) axes.
    """
    w = _array("weeks", weeks, nonneg=True, increasing=True)
    f = _fraction("bone_fraction", bone_fraction)
    d = _array("rod_damage", rod_damage, nonneg=True)
    _same_length("bone_fraction", f, "weeks", w.size)
    _same_length("rod_damage", d, "weeks", w.size)
    bw = None if bridged_week is None else _scalar("bridged_week", bridged_week)
    if damage_scale not in ("log", "linear"):
        raise ValueError(f"damage_scale must be 'log' or 'linear', got {damage_scale!r}")
    if damage_scale == "log" and not np.any(d > 0):
        damage_scale = "linear"
    ax = _axes(ax)
    ax2 = ax.twinx()
    ax.spinesim_damage_axes = ax2  # type: ignore[attr-defined]
    h_bone, = ax.plot(w, 100 * f, color=_BLUE, lw=2.4, label="graft bone fraction (left)")
    y = np.where(d > 0, d, np.nan) if damage_scale == "log" else d
    h_dmg, = ax2.plot(w, y, color=_VERMILLION, lw=2.4, ls="--",
                      label="rod damage D (right)")
    h_fail = ax2.axhline(1.0, color=_VERMILLION, lw=1.2, ls=":", label="rod failure, D = 1")
    handles = [h_bone, h_dmg, h_fail]
    fail_week = _first_crossing(w, d)
    if bw is not None:
        handles.append(ax.axvline(bw, color=_GREEN, lw=2, label=f"bridged, week {bw:g}"))
    if fail_week is not None:
        handles.append(ax.axvline(fail_week, color=_BLACK, lw=2, ls="-.",
                                  label=f"rod fails, week {fail_week:.3g}"))
    ax2.set_yscale(damage_scale)
    if damage_scale == "log":
        lo = float(np.nanmin(y))
        ax2.set_ylim(min(lo, 0.5) / 2, max(2.0, 2 * float(d.max())))
    else:
        ax2.set_ylim(0, max(1.15, 1.05 * float(d.max())))
    if bw is not None and (fail_week is None or bw <= fail_week):
        d_at = float(np.interp(bw, w, d))
        verdict = f"graft bridges first (week {bw:g}, rod damage then {d_at:.2g})"
    elif fail_week is not None:
        verdict = f"rod fails first (week {fail_week:.3g})" + (
            "" if bw is None else f", bridging at week {bw:g}")
    else:
        verdict = f"neither bridging nor rod failure by week {w[-1]:g}"
    ax.set_title(verdict, fontsize=11)
    ax.set_xlim(float(w[0]), float(w[-1]))
    ax.set_ylim(0, 100)
    ax.set_xlabel("time since surgery (weeks)")
    ax.set_ylabel("bone in graft (% of volume)", color=_BLUE)
    ax.tick_params(axis="y", colors=_BLUE)
    ax2.set_ylabel("cumulative rod damage D (-)" + (", log scale" if damage_scale == "log"
                                                     else ""), color=_VERMILLION)
    ax2.tick_params(axis="y", which="both", colors=_VERMILLION)
    ax.grid(True, alpha=0.3)
    # below the axes: inside, it would hide one of the two curves whatever the data
    ax.legend(handles=handles, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13),
              ncol=3, frameon=False)
    return ax


# ------------------------------------------------------------------------------ 7. heatmap
def _tick_text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def _fmt_percent(p: float) -> str:
    """A probability (0..1) as a short percentage: 0, 0.4, 3.2, 12, 100."""
    q = 100.0 * p
    if q == 0.0:
        return "0"
    if q < 10.0:
        return f"{q:.1f}"
    return f"{q:.0f}"


def _nice_ceiling(value: float) -> float:
    """Smallest of 1, 2, 5, 10, 20, 50, 100 that is >= value (value in %, <= 100)."""
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0):
        if value <= step + 1e-9:
            return step
    return 100.0


def failure_heatmap(x_values: Sequence[Any], y_values: Sequence[Any], probability: ArrayLike,
                    *, x_label: str, y_label: str, ci_low: ArrayLike | None = None,
                    ci_high: ArrayLike | None = None, mode: str = "hardware fatigue",
                    vmax_percent: float | None = None, ax: Axes | None = None) -> Axes:
    """Sweep heatmap of a failure probability (%) over two parameters, annotated per cell.

    Each sweep point is one equal-sized cell (the parameter values need not be evenly spaced,
    and may be names such as rod materials); the cell shows the probability in % and, when
    ``ci_low``/``ci_high`` are given, its confidence interval in brackets below it. The
    colour bar is in %, from 0 to ``vmax_percent`` (default: the smallest of 1, 2, 5, 10, 20,
    50, 100 % that holds the largest value, so that small probabilities still show a
    pattern; pass 100 to compare figures on one scale). Cells are annotated when there are at
    most 200 of them.

    Parameters
    ----------
    x_values : sequence (n_x,)
        Values of the parameter along the columns (numbers or names), e.g. rod diameters
        (mm).
    y_values : sequence (n_y,)
        Values of the parameter along the rows (numbers or names), e.g. bone densities
        (g/cm^3); the first row is drawn at the bottom.
    probability : array (n_y, n_x)
        Failure probability at (``y_values[i]``, ``x_values[j]``), a fraction in [0, 1]
        (drawn in %).
    x_label, y_label : str
        Axis labels, with the unit, e.g. ``"rod diameter (mm)"``.
    ci_low, ci_high : array (n_y, n_x), optional
        Lower and upper bounds of the confidence interval of ``probability``, fractions in
        [0, 1] with ``ci_low <= probability <= ci_high``; give both or neither.
    mode : str
        The failure mode, shown in the title and colour bar label.
    vmax_percent : float, optional
        Upper limit of the colour scale (%, in (0, 100]).
    ax : Axes, optional

    Returns
    -------
    Axes
        The colour bar is reachable as ``ax.spinesim_colorbar``.
    """
    xs, ys = list(x_values), list(y_values)
    if not xs:
        raise ValueError("x_values is empty")
    if not ys:
        raise ValueError("y_values is empty")
    p = _fraction("probability", probability, ndim=2)
    if p.shape != (len(ys), len(xs)):
        raise ValueError(f"probability must have shape (len(y_values), len(x_values)) = "
                         f"({len(ys)}, {len(xs)}), got {p.shape}")
    if (ci_low is None) != (ci_high is None):
        raise ValueError("ci_low and ci_high must be given together (both or neither), got "
                         f"only {'ci_low' if ci_high is None else 'ci_high'}")
    lo = hi = None
    if ci_low is not None:
        lo = _fraction("ci_low", ci_low, ndim=2)
        hi = _fraction("ci_high", ci_high, ndim=2)
        for name, a in (("ci_low", lo), ("ci_high", hi)):
            if a.shape != p.shape:
                raise ValueError(f"{name} must have the shape of probability {p.shape}, got "
                                 f"{a.shape}")
        for name, bad in (("ci_low", lo > p + 1e-12), ("ci_high", hi < p - 1e-12)):
            if np.any(bad):
                i, j = (int(k) for k in np.argwhere(bad)[0])
                side = "<=" if name == "ci_low" else ">="
                raise ValueError(f"{name} must be {side} probability; at row {i}, column {j} "
                                 f"{name} is {(lo if name == 'ci_low' else hi)[i, j]:g} and "
                                 f"probability {p[i, j]:g}")
    for name, text in (("x_label", x_label), ("y_label", y_label), ("mode", mode)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if vmax_percent is None:
        vmax = _nice_ceiling(100.0 * float(p.max()))
    else:
        vmax = _scalar("vmax_percent", vmax_percent, positive=True)
        if vmax > 100.0:
            raise ValueError(f"vmax_percent must be in (0, 100] %, got {vmax_percent!r}")
    ax = _axes(ax)
    import matplotlib as mpl

    cmap = mpl.colormaps["magma_r"]
    norm = mpl.colors.Normalize(0.0, vmax)
    mesh = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5, 100 * p,
                         cmap=cmap, norm=norm, edgecolors="white", linewidth=1.0)
    cbar = ax.figure.colorbar(mesh, ax=ax, pad=0.02, extend="max" if p.max() * 100 > vmax
                              else "neither")
    cbar.set_label(f"probability of {mode} failure (%)")
    ax.spinesim_colorbar = cbar  # type: ignore[attr-defined]
    if p.size <= 200:
        size = 9 if max(len(xs), len(ys)) <= 6 else 7
        for i in range(len(ys)):
            for j in range(len(xs)):
                text = f"{_fmt_percent(p[i, j])} %"
                if lo is not None:
                    text += f"\n[{_fmt_percent(lo[i, j])}-{_fmt_percent(hi[i, j])}]"
                r, g, b, _ = cmap(norm(100 * p[i, j]))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(j, i, text, ha="center", va="center", fontsize=size,
                        color="white" if dark else "black")
    ax.set_xticks(np.arange(len(xs)), [_tick_text(v) for v in xs])
    ax.set_yticks(np.arange(len(ys)), [_tick_text(v) for v in ys])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"probability of {mode} failure" + (
        " (%), [confidence interval]" if lo is not None else " (%)"))
    return ax


# ------------------------------------------------------------------------------ 8. tornado
_MEASURES = {"rank correlation": "Spearman rank correlation with the outcome (-)",
             "variance share": "share of the outcome variance (-)"}


def tornado(sensitivities: Mapping[str, float], *, outcome: str,
            measure: str = "rank correlation", ax: Axes | None = None) -> Axes:
    """Tornado chart: one horizontal bar per input parameter, the largest effect on top.

    Bars are sorted by absolute value; positive values (the outcome rises with the parameter)
    are blue, negative ones vermillion and hatched, with a vertical line at zero and the value
    written at the end of each bar.

    Parameters
    ----------
    sensitivities : mapping str -> float
        Sensitivity of the outcome to each parameter: a rank correlation in [-1, 1] or, with
        ``measure="variance share"``, a share of the outcome variance in [0, 1] (e.g. a
        first-order Sobol index).
    outcome : str
        What the sensitivities are of, with its unit where it has one, e.g.
        ``"rod damage after 2 years (-)"``; shown in the title.
    measure : "rank correlation" or "variance share"
        Sets the allowed range, the x-axis label and its limits (-1..1 or 0..1).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {', '.join(map(repr, _MEASURES))}, got "
                         f"{measure!r}")
    if not isinstance(outcome, str) or not outcome.strip():
        raise ValueError(f"outcome must be a non-empty string, got {outcome!r}")
    if not isinstance(sensitivities, Mapping):
        msg = (f"sensitivities must be a mapping parameter name -> value, got "
               f"{type(sensitivities).__name__}")
        raise ValueError(msg)  # noqa: TRY004 (a ValueError, like every input error here)
    if not sensitivities:
        raise ValueError("sensitivities is empty")
    lo_allowed = -1.0 if measure == "rank correlation" else 0.0
    items: list[tuple[str, float]] = []
    for name, value in sensitivities.items():
        try:
            v = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sensitivities[{name!r}] must be a number, got {value!r}") from exc
        if not math.isfinite(v) or not lo_allowed - 1e-9 <= v <= 1.0 + 1e-9:
            raise ValueError(f"sensitivities[{name!r}] must be a {measure} in "
                             f"[{lo_allowed:g}, 1], got {value!r}")
        items.append((str(name), v))
    items.sort(key=lambda kv: abs(kv[1]))                # smallest first = bottom row
    names = [k for k, _ in items]
    values = np.array([v for _, v in items])
    ax = _axes(ax)
    y = np.arange(len(items))
    positive = values >= 0
    colours = [_BLUE if s else _VERMILLION for s in positive]
    bars = ax.barh(y, values, height=0.6, color=colours, edgecolor=_BLACK, lw=0.6)
    for bar, s in zip(bars, positive):
        if not s:
            bar.set_hatch("//")
    ax.bar_label(bars, labels=[f"{v:+.2f}" if measure == "rank correlation" else f"{v:.2f}"
                               for v in values], padding=3, fontsize=9)
    ax.axvline(0.0, color=_BLACK, lw=1.2)
    ax.set_yticks(y, names)
    if measure == "rank correlation":
        ax.set_xlim(-1.18, 1.18)
        ax.set_xticks(np.linspace(-1.0, 1.0, 9))
    else:
        ax.set_xlim(0.0, 1.12)
        ax.set_xticks(np.linspace(0.0, 1.0, 6))
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.set_xlabel(_MEASURES[measure])
    ax.set_title(f"sensitivity of {outcome}", fontsize=11)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if measure == "rank correlation":
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(fc=_BLUE, ec=_BLACK, label="outcome rises with parameter"),
                           Patch(fc=_VERMILLION, ec=_BLACK, hatch="//",
                                 label="outcome falls with parameter")],
                  fontsize=8, loc="lower right", framealpha=0.95)
    return ax


# ------------------------------------------------------------------------------ 9. sagittal
_CORNERS = {"tetra": 4, "tetra10": 4, "hexahedron": 8}
_EDGES = {
    4: np.array([(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]),
    8: np.array([(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4),
                 (1, 5), (2, 6), (3, 7)]),
}


def sagittal_section(mesh: Any, x0: float = 0.0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Solid cells cut by the plane x = ``x0`` and the y-z polygon of each cut (mm).

    A cell is cut when its corner nodes lie on both sides of the plane. Where the plane runs
    along cell faces (a mesh symmetric about it), the cells on the +x side of it are the cut
    ones, their polygon being that face. Curved (tetra10) cells are cut along their corner
    nodes.

    Parameters
    ----------
    mesh : Mesh
    x0 : float
        Position of the plane on the x axis (mm).

    Returns
    -------
    cells : int array (n_cut,)
        Indices of the cut cells among all solid cells (block order).
    polygons : list of float arrays (k_i, 2)
        (y, z) vertices of each cut, in order around it (mm).
    """
    cells_out: list[np.ndarray] = []
    points: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    first = 0
    scale = float(np.ptp(mesh.points, axis=0).max()) or 1.0
    tol = 1e-9 * scale
    for blk in mesh.solid_blocks:  # all cut cells of a block at once
        k = _CORNERS[blk.type]
        X = mesh.points[blk.cells[:, :k]]                 # (e, k, 3)
        d = X[..., 0] - x0
        d = np.where(np.abs(d) <= tol, 0.0, d)
        cut = np.flatnonzero((d.min(axis=1) <= 0.0) & (d.max(axis=1) > 0.0))
        edges = _EDGES[k]
        de, Xe = d[cut], X[cut]                           # (c, k), (c, k, 3)
        # candidate vertices of each cut: its corners on the plane, then its edge crossings
        a, b = de[:, edges[:, 0]], de[:, edges[:, 1]]
        cross = a * b < 0.0
        pa, pb = Xe[:, edges[:, 0], 1:], Xe[:, edges[:, 1], 1:]
        with np.errstate(divide="ignore", invalid="ignore"):  # edges not crossed: unused
            t = (a / (a - b))[..., None]
            cand = np.round(np.concatenate([Xe[:, :, 1:], pa + t * (pb - pa)], axis=1), 9)
        valid = np.concatenate([de == 0.0, cross], axis=1)  # (c, k + n_edges)
        # np.unique of each cut's rows: sorted by (y, z), duplicates dropped; invalid last
        n_c, n_s = valid.shape
        row = np.repeat(np.arange(n_c), n_s)
        flat, ok = cand.reshape(-1, 2), valid.ravel()
        order = np.lexsort((flat[:, 1], flat[:, 0], ~ok, row)).reshape(n_c, n_s) \
            - n_s * np.arange(n_c)[:, None]
        srt, ok = cand[np.arange(n_c)[:, None], order], np.take_along_axis(valid, order, 1)
        dup = np.zeros_like(ok)
        dup[:, 1:] = ok[:, 1:] & np.all(srt[:, 1:] == srt[:, :-1], axis=2)
        keep = ok & ~dup
        slot = np.argsort(~keep, axis=1, kind="stable")   # the kept points first, in order
        srt, keep = srt[np.arange(n_c)[:, None], slot], np.take_along_axis(keep, slot, 1)
        n = keep.sum(axis=1)
        # the centroid as poly.mean(axis=0) sums: from 0.0, point after point
        total = np.zeros((n_c, 2))
        for j in range(n_s):  # candidate slots (at most 20), not cells
            total += np.where(keep[:, j, None], srt[:, j], -0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = total / n[:, None]
            ang = np.where(keep, np.arctan2(srt[..., 1] - c[:, None, 1],
                                            srt[..., 0] - c[:, None, 0]), np.inf)
        by_angle = np.argsort(ang, axis=1, kind="stable")
        poly = srt[np.arange(n_c)[:, None], by_angle]    # (c, n_s, 2), kept points first
        live = np.arange(n_s)[None, :] < n[:, None]
        yy = np.where(live, poly[..., 0], 0.0)
        zz = np.where(live, poly[..., 1], 0.0)
        nxt = (np.arange(n_s)[None, :] + 1) % np.maximum(n, 1)[:, None]
        y_next = np.take_along_axis(yy, nxt, 1)
        z_next = np.take_along_axis(zz, nxt, 1)
        area = 0.5 * np.abs((yy * z_next).sum(axis=1) - (zz * y_next).sum(axis=1))
        good = (n >= 3) & ~(area <= tol * scale)
        cells_out.append(first + cut[good])
        points.append(poly[good][live[good]])
        sizes.append(n[good])
        first += len(blk)
    if not cells_out:
        return np.zeros(0, dtype=np.int64), []
    sizes_all = np.concatenate(sizes)
    polygons = np.split(np.concatenate(points), np.cumsum(sizes_all)[:-1]) if len(sizes_all) \
        else []
    return np.concatenate(cells_out).astype(np.int64), polygons


def sagittal_von_mises(mesh: Any, displacement: ArrayLike, E: ArrayLike, nu: ArrayLike, *,
                       hardware_points: ArrayLike | None = None,
                       hardware_lines: ArrayLike | None = None, x0: float = 0.0,
                       scale: str = "log", vmax_mpa: float | None = None,
                       ax: Axes | None = None) -> Axes:
    """Von Mises stress (MPa) on the mid-sagittal slice x = ``x0``, hardware drawn on top.

    Each solid cell cut by the plane is a filled polygon (its cut, see
    :func:`sagittal_section`) coloured by its volume-averaged von Mises stress, computed with
    the B-bar strain of hex8/tet10 cells as the segment models solve them. The view is lateral:
    y (anterior) to the right, z (cranial) up, equal scales, undeformed geometry. Hardware
    (screw and rod beams) is projected onto the plane along x and drawn as black lines with a
    white outline; pedicle screws lie off the plane, so they are seen from the side, not cut.

    The colour scale is logarithmic by default, over three decades below its top: the stresses
    on a slice span the stiff cortical shell and endplates (MPa to tens of MPa) and the
    cancellous bone, cage and early graft (hundredths to tenths of MPa), and on a linear
    scale everything but the shell would be one colour. Lower stresses (e.g. a soft early
    graft) take the bottom colour; the colour bar then has an arrow at its bottom.

    Parameters
    ----------
    mesh : Mesh
        The solid mesh (mm; x to the patient's left, y anterior, z cranial), e.g.
        ``segment.geometry.mesh``.
    displacement : array (n_nodes, 3)
        Nodal displacement (mm) of the mesh nodes, e.g. ``solution.displacement``.
    E : float or array (n_solid_cells,)
        Young's modulus (MPa) of each solid cell, as solved (``segment.E``).
    nu : float or array (n_solid_cells,)
        Poisson's ratio of each solid cell (``segment.nu``).
    hardware_points : array (n, 3), optional
        Hardware node positions (mm), e.g. ``segment.hardware.points``.
    hardware_lines : int array (m, 2), optional
        Pairs of indices into ``hardware_points``, one per beam element; give both or neither.
    x0 : float
        Position of the slice on the x axis (mm).
    scale : "log" or "linear"
        Colour scale: log from ``vmax / 1000`` to ``vmax`` (default), or linear from 0.
    vmax_mpa : float, optional
        Upper limit of the colour scale (MPa, > 0; default the largest stress on the slice);
        higher stresses are drawn in the top colour and the colour bar gets an arrow.
    ax : Axes, optional

    Returns
    -------
    Axes
        The colour bar is reachable as ``ax.spinesim_colorbar``, the polygons as
        ``ax.collections[0]`` (their values, MPa, from ``get_array()``).
    """
    from spinesim.fem.materials import Isotropic
    from spinesim.fem.post import cell_values, solid_fields, von_mises

    if not hasattr(mesh, "solid_blocks") or not hasattr(mesh, "points"):
        raise ValueError(f"mesh must be a spinesim Mesh, got {type(mesh).__name__}")
    if mesh.n_solid_cells == 0:
        raise ValueError("mesh has no solid cells")
    u = _array("displacement", displacement, ndim=(1, 2))
    if u.size != 3 * mesh.n_nodes or (u.ndim == 2 and u.shape[1] != 3):
        raise ValueError(f"displacement must have shape (n_nodes, 3) = ({mesh.n_nodes}, 3), "
                         f"got {u.shape}")
    u = u.reshape(mesh.n_nodes, 3)
    x0 = float(_array("x0", [x0])[0])
    material = Isotropic.of(E, nu, mesh.n_solid_cells)   # ValueError naming E or nu
    if (hardware_points is None) != (hardware_lines is None):
        raise ValueError("hardware_points and hardware_lines must be given together (both or "
                         f"neither), got only "
                         f"{'hardware_points' if hardware_lines is None else 'hardware_lines'}")
    segments = None
    if hardware_points is not None:
        hp = _array("hardware_points", hardware_points, ndim=2)
        if hp.shape[1] != 3:
            raise ValueError(f"hardware_points must have shape (n, 3), got {hp.shape}")
        hl = np.asarray(hardware_lines)
        if hl.ndim != 2 or hl.shape[1] != 2 or hl.size == 0 or not (
                np.issubdtype(hl.dtype, np.integer)):
            raise ValueError(f"hardware_lines must be a non-empty integer array (m, 2) of "
                             f"indices into hardware_points, got shape {hl.shape} and dtype "
                             f"{hl.dtype}")
        if hl.min() < 0 or hl.max() >= len(hp):
            bad = int(hl.min() if hl.min() < 0 else hl.max())
            raise ValueError(f"hardware_lines index {bad} out of range: hardware_points has "
                             f"{len(hp)} points (allowed 0 to {len(hp) - 1})")
        segments = hp[hl][:, :, 1:]                        # (m, 2, 2): (y, z) of both ends
    if scale not in ("log", "linear"):
        raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
    vmax = None if vmax_mpa is None else _scalar("vmax_mpa", vmax_mpa, positive=True)
    cells, polygons = sagittal_section(mesh, x0)
    if cells.size == 0:
        lo, hi = mesh.points[:, 0].min(), mesh.points[:, 0].max()
        raise ValueError(f"x0 = {x0:g} mm does not cut the mesh (x from {lo:g} to {hi:g} mm)")
    stress = cell_values(solid_fields(mesh, u, material, bbar=True), "stress")
    svm = von_mises(stress[cells])
    ax = _axes(ax)
    import matplotlib as mpl
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection, PolyCollection

    top = float(svm.max()) if vmax is None else vmax
    top = top if top > 0 else 1.0
    if scale == "log":
        norm = mpl.colors.LogNorm(top * 1e-3, top)
    else:
        norm = mpl.colors.Normalize(0.0, top)
    cmap = mpl.colormaps["viridis"]
    coll = PolyCollection(polygons, array=svm, cmap=cmap, norm=norm, edgecolors="face",
                          linewidths=0.3)
    ax.add_collection(coll)
    over, under = bool(svm.max() > norm.vmax), bool(svm.min() < norm.vmin)
    cbar = ax.figure.colorbar(coll, ax=ax, pad=0.02, extend="both" if over and under else
                              "max" if over else "min" if under else "neither")
    cbar.set_label("von Mises stress (MPa), cell average" + (", log scale" if scale == "log"
                                                              else ""))
    if scale == "log":
        from matplotlib.ticker import FuncFormatter, NullFormatter

        cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        cbar.ax.yaxis.set_minor_formatter(NullFormatter())
    ax.spinesim_colorbar = cbar  # type: ignore[attr-defined]
    allp = np.vstack(polygons)
    if segments is not None:
        halo = [patheffects.Stroke(linewidth=4.5, foreground="white"), patheffects.Normal()]
        lines = LineCollection(segments, colors=_BLACK, linewidths=2.2, capstyle="round",
                               label="screws and rods (projected)", zorder=3)
        lines.set_path_effects(halo)
        ax.add_collection(lines)
        allp = np.vstack([allp, segments.reshape(-1, 2)])
        ax.legend(handles=[lines], fontsize=8, loc="upper left", framealpha=0.9)
    pad = 0.04 * float(np.ptp(allp, axis=0).max())
    ax.set_xlim(allp[:, 0].min() - pad, allp[:, 0].max() + pad)
    ax.set_ylim(allp[:, 1].min() - pad, allp[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("y, posterior to anterior (mm)")
    ax.set_ylabel("z, caudal to cranial (mm)")
    ax.set_title(f"von Mises stress, sagittal slice x = {x0:g} mm (max {svm.max():.3g} MPa)",
                 fontsize=11)
    return ax
