"""Atomic writes: nothing half written, and the result has a normal file's permissions."""

from __future__ import annotations

import os
import stat

import pytest

from spinesim.atomic import atomic_path, write_json


def test_result_replaces_the_target_with_umask_permissions(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"a": 1})
    assert target.read_text().strip().startswith("{")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_an_error_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_safe_turns_numpy_and_non_finite_values_into_plain_json():
    import json
    import math

    import numpy as np

    from spinesim.atomic import json_safe

    data = {"a": np.float64(1.5), "b": [np.int64(2), math.inf, -math.inf], "c": np.bool_(True),
            "d": (np.float32("nan"), "text"), 3: None}
    out = json_safe(data)
    assert out == {"a": 1.5, "b": [2, None, None], "c": True, "d": [None, "text"], "3": None}
    assert type(out["b"][0]) is int and type(out["c"]) is bool
    json.dumps(out, allow_nan=False)
