"""Solution fields written to VTU and XDMF come back unchanged."""

from __future__ import annotations

import meshio
import numpy as np
import pytest

from spinesim.fem import Isotropic
from spinesim.fem.constraints import Support
from spinesim.fem.export import write_solution
from spinesim.fem.loads import nodal_forces
from spinesim.fem.post import cell_values, principal, solid_fields, von_mises
from spinesim.fem.static import LinearElasticModel
from spinesim.mesh.generate import box


@pytest.mark.parametrize("suffix", [".vtu", ".xdmf"])
def test_displacement_and_stress_fields_round_trip(tmp_path, suffix):
    mesh = box((2, 1, 1), (4, 2, 2), "tetra10")
    mat = Isotropic.of(500.0, 0.3, mesh.n_solid_cells)
    model = LinearElasticModel(mesh, mat, supports=[Support(mesh.node_sets["xmin"])],
                               solver="direct")
    sol = model.solve(nodal_forces(mesh, mesh.node_sets["xmax"], [0, 0, -1.0]))
    fields = solid_fields(mesh, sol.displacement, mat)
    path = tmp_path / f"result{suffix}"
    write_solution(path, mesh, sol, fields)
    back = meshio.read(path)
    assert np.array_equal(back.point_data["displacement"], sol.displacement)
    vm = von_mises(cell_values(fields))
    assert np.allclose(np.concatenate(back.cell_data["von_mises"]), vm, rtol=0, atol=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["result.vtu"] if suffix == ".vtu" else ["result.xdmf", "result.h5"])


def test_von_mises_and_principal_values_of_known_tensors():
    s = np.zeros((3, 3, 3))
    s[0, 0, 0] = 10.0  # uniaxial
    s[1] = np.eye(3) * -4.0  # hydrostatic
    s[2, 0, 1] = s[2, 1, 0] = 5.0  # pure shear
    assert np.allclose(von_mises(s), [10.0, 0.0, 5.0 * np.sqrt(3)])
    assert np.allclose(principal(s)[2], [5.0, 0.0, -5.0])
