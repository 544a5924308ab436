"""Finite-element core: elements, assembly, constraints, solvers and post-processing."""

from spinesim.fem.assembler import Assembler, stiffness_matrix
from spinesim.fem.materials import Isotropic, TransverselyIsotropic

__all__ = ["Assembler", "stiffness_matrix", "Isotropic", "TransverselyIsotropic"]
