"""Parametric geometry: literature dimensions of the lumbar vertebrae and a hex8 mesh generator
for lumbar motion segments (intact or fused); :mod:`spinesim.geometry.measure` takes the same
anatomical measures of a generated segment and of a subject's surfaces. Lengths in mm, angles
in degrees.

>>> from spinesim.geometry import lumbar_segment
>>> seg = lumbar_segment("L4-L5", construct="intact")   # doctest: +SKIP
"""

from __future__ import annotations

from spinesim.geometry._posterior import lamina_front_y
from spinesim.geometry.dimensions import (
    LEVELS,
    REFERENCES,
    LevelDimensions,
    ValueSource,
    dimension_sources,
    dimension_table,
    level_dimensions,
)
from spinesim.geometry.lumbar import REGION_TAGS, lumbar_segment, parse_levels
from spinesim.geometry.segment import (
    CageSpec,
    FacetPair,
    ScrewTrajectory,
    SegmentGeometry,
    TieGroup,
)

__all__ = ["LEVELS", "REFERENCES", "REGION_TAGS", "CageSpec", "FacetPair", "LevelDimensions",
           "ScrewTrajectory", "SegmentGeometry", "TieGroup", "ValueSource", "dimension_sources",
           "dimension_table", "lamina_front_y", "level_dimensions", "lumbar_segment",
           "parse_levels"]
