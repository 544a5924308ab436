"""Helpers shared by the benchmark scripts."""

from __future__ import annotations


def peak_mb() -> float:
    """Peak resident set size of this process (VmHWM) in MB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_records(path: str | None, records) -> None:
    """Write the benchmark records as JSON (atomically) when a path is given."""
    if path:
        from spinesim.atomic import write_json

        write_json(path, records)
