"""Value types of a meshed lumbar segment: the cage specification, pedicle-screw trajectories,
facet-joint surface pairs, tie groups and the segment itself. Lengths in mm, angles in degrees."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spinesim.errors import MeshError
from spinesim.geometry.dimensions import LevelDimensions
from spinesim.mesh.mesh import Mesh


@dataclass(frozen=True)
class CageSpec:
    """Interbody cage of a fusion: a box footprint with a rectangular graft window, mm.

    The defaults are modelling choices, not literature values. ``height_mm=None`` keeps the
    tabulated disc height (the cage fills the disc space); a value sets the fused disc height
    (distraction). The cage top and bottom follow the (concave) endplates; the wedge equals the
    disc lordosis. ``material`` is data for the materials library: ``peek`` or ``titanium``.
    """

    width_mm: float = 24.0
    depth_mm: float = 18.0
    height_mm: float | None = None
    window_width_mm: float = 12.0
    window_depth_mm: float = 8.0
    material: str = "peek"

    def __post_init__(self) -> None:
        if self.material not in ("peek", "titanium"):
            raise MeshError(f"cage material={self.material!r}; allowed: 'peek', 'titanium'")
        for key in ("width_mm", "depth_mm", "window_width_mm", "window_depth_mm"):
            v = getattr(self, key)
            if not (np.isfinite(v) and v > 0):
                raise MeshError(f"cage {key}={v!r} must be a positive length in mm")
        if self.height_mm is not None and not (2.0 <= self.height_mm <= 25.0):
            raise MeshError(f"cage height_mm={self.height_mm!r} is outside [2, 25] mm")
        if (self.window_width_mm > self.width_mm - 2.0
                or self.window_depth_mm > self.depth_mm - 2.0):
            raise MeshError("cage window_width_mm/window_depth_mm must leave walls of at least "
                            f"1 mm: window {self.window_width_mm} x {self.window_depth_mm} mm in a "
                            f"{self.width_mm} x {self.depth_mm} mm cage")


@dataclass(frozen=True, eq=False)
class ScrewTrajectory:
    """A pedicle-screw trajectory along the pedicle axis (global coordinates, mm).

    Attributes
    ----------
    level, side : str
        Vertebra and ``left``/``right`` (patient's side, +x is left).
    entry : ndarray (3,)
        Entry point on the posterior surface of the articular pillar.
    direction : ndarray (3,)
        Unit vector from the entry towards the tip (pedicle transverse angle, medially).
    length_mm, diameter_mm : float
        Screw length and diameter (parameters).
    tip : ndarray (3,)
        ``entry + length_mm * direction``.
    axis_to_wall_mm : float
        Smallest distance from the screw axis to the meshed pedicle wall (wall nodes).
    wall_clearance_mm : float
        ``axis_to_wall_mm - diameter_mm / 2``; negative means the screw breaches the wall.
    tip_inside_body : bool
        Whether the tip lies inside the vertebral body.
    tip_to_cortex_mm : float
        Distance from the tip along the axis to the body's outer wall (NaN if outside).
    """

    level: str
    side: str
    entry: np.ndarray
    direction: np.ndarray
    length_mm: float
    diameter_mm: float
    tip: np.ndarray
    axis_to_wall_mm: float
    wall_clearance_mm: float
    tip_inside_body: bool
    tip_to_cortex_mm: float


@dataclass(frozen=True, eq=False)
class FacetPair:
    """One facet joint: the upper vertebra's inferior articular surface against the lower
    vertebra's superior articular surface, with an initial gap (for a contact model).

    Attributes
    ----------
    upper, lower, side : str
        Vertebrae and ``left``/``right``.
    inferior_nodes, superior_nodes : ndarray
        Mesh node ids of the two articular surfaces (also node sets
        ``facet_<upper>_<lower>_<side>_inferior`` / ``..._superior``).
    inferior_normal, superior_normal : ndarray (3,)
        Outward unit normals of the two surfaces (they point at each other).
    gap_mm, height_mm : float
        Initial gap between the parallel surfaces and their cranio-caudal height.
    centre : ndarray (3,)
        Joint centre (mid-gap), mm.
    """

    upper: str
    lower: str
    side: str
    inferior_nodes: np.ndarray
    superior_nodes: np.ndarray
    inferior_normal: np.ndarray
    superior_normal: np.ndarray
    gap_mm: float
    height_mm: float
    centre: np.ndarray


@dataclass(frozen=True, eq=False)
class TieGroup:
    """Node pairs to tie with :func:`spinesim.fem.couplings.tie_translations` (masters,
    slaves). The lumbar generator builds a conforming mesh and returns none."""

    name: str
    masters: np.ndarray
    slaves: np.ndarray


@dataclass(frozen=True, eq=False)
class SegmentGeometry:
    """A meshed lumbar motion segment and what was used to build it.

    Attributes
    ----------
    mesh : Mesh
        One hexahedron block; regions ``cortical``, ``cancellous``, ``endplate``, ``posterior``
        and ``annulus``/``nucleus`` (intact) or ``cage``/``graft`` (fused). Node sets:
        ``upper_endplate_top``, ``lower_endplate_bottom``, ``<L>_superior_endplate``,
        ``<L>_inferior_endplate`` (and ``..._rim``: their outer ring), facet surfaces.
    levels : tuple of str
        Vertebrae, cranial to caudal.
    construct : str
        ``intact`` or ``fused``.
    dimensions : dict[str, LevelDimensions]
        Dimensions used per vertebra.
    cell_vertebra : ndarray (n_cells,)
        Index into ``levels`` of each cell's vertebra, -1 for disc, cage and graft cells.
    annulus_layer : ndarray (n_cells,)
        Annulus lamella of each cell, 1 = outermost, 0 for non-annulus cells.
    facet_pairs, screws, tie_groups : tuple
        Facet joints, pedicle-screw trajectories, tie groups (empty: the mesh is conforming).
    frames : dict[str, ndarray]
        4x4 local-to-global transform of each vertebra (local origin at the body centre).
    cage : CageSpec or None
    quality : dict
        ``min_scaled_jacobian``, ``max_aspect_ratio``, ``n_nodes``, ``n_cells``, ``n_dofs``.
    build_seconds : float
    """

    mesh: Mesh
    levels: tuple[str, ...]
    construct: str
    dimensions: dict[str, LevelDimensions]
    cell_vertebra: np.ndarray
    annulus_layer: np.ndarray
    facet_pairs: tuple[FacetPair, ...]
    screws: tuple[ScrewTrajectory, ...]
    frames: dict[str, np.ndarray]
    cage: CageSpec | None = None
    tie_groups: tuple[TieGroup, ...] = ()
    quality: dict = field(default_factory=dict)
    build_seconds: float = 0.0

    @property
    def n_dofs(self) -> int:
        """Displacement DOFs of the solid mesh (3 per node)."""
        return 3 * self.mesh.n_nodes
