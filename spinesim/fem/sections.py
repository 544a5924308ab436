"""Cross-section properties of solid and hollow circular beams (pedicle screws, rods).

One frozen dataclass, :class:`CircularSection`, whose fields may be scalars or arrays (one
section per beam element); every property is then an array of the broadcast shape, so a whole
construct's sections are computed at once.

Units: mm, mm^2, mm^3, mm^4; Poisson's ratio dimensionless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spinesim.errors import SpinesimError

logger = logging.getLogger(__name__)

__all__ = ["CircularSection"]


def _positions(bad: np.ndarray) -> str:
    """Describe the offending entries of a (possibly 0-d) boolean array."""
    if bad.ndim == 0:
        return ""
    ids = np.flatnonzero(bad)
    more = f" (and {len(ids) - 10} more)" if len(ids) > 10 else ""
    return " at index " + ", ".join(str(i) for i in ids[:10]) + more


@dataclass(frozen=True, eq=False)
class CircularSection:
    """Solid or hollow circular cross-section.

    Parameters
    ----------
    outer_diameter_mm : float or array (n,)
        Outer diameter in mm, > 0.
    inner_diameter_mm : float or array (n,), default 0
        Inner (bore) diameter in mm, 0 <= inner < outer; 0 is a solid section.

    Examples
    --------
    >>> s = CircularSection(6.0)
    >>> round(float(s.area), 4), round(float(s.inertia), 4)
    (28.2743, 63.6173)
    >>> CircularSection([5.5, 6.0], [0.0, 2.0]).area.shape
    (2,)
    """

    outer_diameter_mm: float | np.ndarray
    inner_diameter_mm: float | np.ndarray = 0.0

    def __post_init__(self) -> None:
        d_out = np.asarray(self.outer_diameter_mm, dtype=np.float64)
        d_in = np.asarray(self.inner_diameter_mm, dtype=np.float64)
        try:
            d_out, d_in = np.broadcast_arrays(d_out, d_in)
        except ValueError as exc:
            raise SpinesimError(
                f"outer_diameter_mm (shape {d_out.shape}) and inner_diameter_mm "
                f"(shape {d_in.shape}) do not broadcast"
            ) from exc
        bad = ~np.isfinite(d_out) | (d_out <= 0.0)
        if np.any(bad):
            raise SpinesimError(
                f"outer_diameter_mm must be finite and > 0 mm, got "
                f"{d_out[bad].tolist() if d_out.ndim else float(d_out)}{_positions(bad)}"
            )
        bad = ~np.isfinite(d_in) | (d_in < 0.0)
        if np.any(bad):
            raise SpinesimError(
                f"inner_diameter_mm must be finite and >= 0 mm, got "
                f"{d_in[bad].tolist() if d_in.ndim else float(d_in)}{_positions(bad)}"
            )
        bad = d_in >= d_out
        if np.any(bad):
            got = (list(zip(d_in[bad].tolist(), d_out[bad].tolist())) if d_in.ndim
                   else (float(d_in), float(d_out)))
            raise SpinesimError(
                f"inner_diameter_mm must be < outer_diameter_mm, got (inner, outer) = "
                f"{got} mm{_positions(bad)}"
            )
        scalar = d_out.ndim == 0
        object.__setattr__(self, "outer_diameter_mm", float(d_out) if scalar else d_out.copy())
        object.__setattr__(self, "inner_diameter_mm", float(d_in) if scalar else d_in.copy())

    # ------------------------------------------------------------------ geometry
    @property
    def outer_radius(self) -> np.ndarray:
        """Outer radius r_out (mm)."""
        return 0.5 * np.asarray(self.outer_diameter_mm)

    @property
    def inner_radius(self) -> np.ndarray:
        """Inner radius r_in (mm); 0 for a solid section."""
        return 0.5 * np.asarray(self.inner_diameter_mm)

    @property
    def radius_ratio(self) -> np.ndarray:
        """m = r_in / r_out (-), 0 <= m < 1."""
        return self.inner_radius / self.outer_radius

    @property
    def area(self) -> np.ndarray:
        """Area A = pi (r_out^2 - r_in^2) (mm^2)."""
        return np.pi * (self.outer_radius**2 - self.inner_radius**2)

    @property
    def inertia(self) -> np.ndarray:
        """Second moment of area I = pi (r_out^4 - r_in^4) / 4 (mm^4), same about any
        diameter."""
        return 0.25 * np.pi * (self.outer_radius**4 - self.inner_radius**4)

    @property
    def polar(self) -> np.ndarray:
        """Polar moment = Saint-Venant torsion constant J = 2 I (mm^4)."""
        return 2.0 * self.inertia

    @property
    def section_modulus(self) -> np.ndarray:
        """Elastic section modulus W = I / r_out (mm^3): max bending stress = M / W."""
        return self.inertia / self.outer_radius

    # ------------------------------------------------------------------ shear
    def shear_coefficient(self, nu: ArrayLike) -> np.ndarray:
        """Timoshenko shear coefficient kappa (-) after Cowper.

        kappa = 6 (1+nu) (1+m^2)^2 / ((7+6 nu)(1+m^2)^2 + (20+12 nu) m^2) with
        m = r_in / r_out; for a solid circle (m = 0) this is 6 (1+nu) / (7 + 6 nu), for a
        thin tube (m -> 1) 2 (1+nu) / (4 + 3 nu).

        Parameters
        ----------
        nu : float or array
            Poisson's ratio (-), -1 < nu < 0.5.

        Returns
        -------
        ndarray
            kappa (-), broadcast over the sections and ``nu``.

        References
        ----------
        G. R. Cowper, "The shear coefficient in Timoshenko's beam theory",
        J. Appl. Mech. 33:335-340 (1966), Table 1.
        """
        nu = np.asarray(nu, dtype=np.float64)
        bad = ~np.isfinite(nu) | (nu <= -1.0) | (nu >= 0.5)
        if np.any(bad):
            raise SpinesimError(f"nu must satisfy -1 < nu < 0.5, got {nu[bad].tolist()}")
        m2 = self.radius_ratio**2
        q = (1.0 + m2) ** 2
        return 6.0 * (1.0 + nu) * q / ((7.0 + 6.0 * nu) * q + (20.0 + 12.0 * nu) * m2)

    @property
    def surface_shear_factor(self) -> np.ndarray:
        """beta (-): transverse-shear stress on the outer surface is beta V cos(psi) / A.

        psi is the angle between the surface point's tangent direction and the shear force,
        i.e. tau_xtheta = beta (V . e_theta) / A. beta = (4/3)(1 + m + m^2)/(1 + m^2) is the
        elementary (Jourawski) neutral-axis value V Q / (I b) with b = 2 (r_out - r_in)
        (e.g. Gere & Goodno, Mechanics of Materials, section "shear stresses in beams of
        circular cross section"); 4/3 for a solid circle and 2 for a thin tube. The cosine
        distribution around the circumference is exact for the thin tube and for the
        Saint-Venant flexure solution of the solid circle (Timoshenko & Goodier, Theory of
        Elasticity, bending of a circular cantilever), whose surface amplitude
        (1 + 2 nu)/(1 + nu) (1.23 at nu = 0.3) is below 4/3, so beta is conservative.
        """
        m = self.radius_ratio
        return (4.0 / 3.0) * (1.0 + m + m * m) / (1.0 + m * m)
