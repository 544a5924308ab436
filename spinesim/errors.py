"""Exceptions raised by spinesim.

Every error says what was wrong and where (file, key, element id, node id, value). They derive
from ``ValueError`` so callers that already catch bad-input errors keep working.
"""

from __future__ import annotations


class SpinesimError(ValueError):
    """Base class of all spinesim input and model errors."""


class MeshError(SpinesimError):
    """A mesh is unreadable or invalid (bad cells, coordinates, indices or tags)."""


class MaterialError(SpinesimError):
    """Material parameters are out of range or have the wrong shape."""


class ConstraintError(SpinesimError):
    """Supports or multi-point constraints are inconsistent or leave rigid-body modes free."""


class SolverError(SpinesimError):
    """A linear solve failed (no convergence, singular matrix)."""


class StoreError(SpinesimError):
    """A results store file cannot be opened, is not a spinesim store, or stays locked."""


class SweepError(SpinesimError):
    """A sweep spec, a sweep parameter or a sweep run is invalid."""
