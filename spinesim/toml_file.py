"""Reading a TOML input file (scenario, sweep, dimension tables) with errors that name the file
and say what is wrong: missing, a folder, not a regular file (a FIFO or a device would block or
never end), too large, not UTF-8 (a UTF-8 byte-order mark is accepted), a syntax error with its
line and column, or nesting too deep for the parser."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomllib

__all__ = ["MAX_BYTES", "read_toml"]

#: Largest input file read (bytes): a scenario or sweep file is a few kB; a larger "file" is
#: not one (e.g. /dev/zero, a mesh given by mistake).
MAX_BYTES = 16 * 1024 * 1024


def read_toml(path: str | os.PathLike, what: str = "scenario file",
              error: Callable[[str], Exception] = ValueError) -> dict[str, Any]:
    """The tables of the TOML file ``path`` (a ``what``); every problem raises ``error(message)``
    with a message that starts with the path.

    Raises
    ------
    error
        Missing file, a folder, not a regular file, larger than :data:`MAX_BYTES`, unreadable,
        not UTF-8 (with the line of the bad byte), a TOML syntax error (line and column) or
        nesting too deep.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file (a pipe or device?); give a {what}")
    if st.st_size > MAX_BYTES:
        raise error(f"{path}: {st.st_size / 2**20:.0f} MiB is too large for a {what} "
                    f"(at most {MAX_BYTES // 2**20} MiB)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is not TOML but harmless
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (bad byte at line {line}); TOML files must be "
                    "UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"line {m.group(1)}, column {m.group(2)}" if m else \
            "the end of the file" if "end of document" in msg else "an unknown line"
        what_wrong = re.sub(r"\s*\(at [^)]*\)\s*$", "", msg)
        lines = text.splitlines()
        shown = lines[int(m.group(1)) - 1].strip() if m and int(m.group(1)) <= len(lines) \
            else ""
        shown = f" in {shown[:80]!r}" if shown else ""
        raise error(f"{path}: TOML syntax error at {where}{shown}: {what_wrong}") from None
    except RecursionError:
        raise error(f"{path}: TOML nested too deeply to read") from None
