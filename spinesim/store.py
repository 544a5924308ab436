"""A crash-safe store of simulation cases: one SQLite file, one row per case.

A parameter sweep runs many cases, each a full simulation. Every finished case is written at
once, in its own transaction, so a crash or a ``kill -9`` at any moment leaves each case either
complete or absent; a restarted sweep asks :meth:`ResultsStore.pending` what is left and runs
only that.

Cases are identified by :func:`case_key`, a SHA-256 of the canonical parameters and the
spinesim version, so the same parameters always map to the same row and a new spinesim version
never reuses old results.

Several processes on one machine may write to one store at the same time (WAL journal and a
busy timeout). SQLite locking is not reliable over network file systems (NFS, Lustre, SMB):
on a cluster, give each node its own store file on local disk, or send results back to one
writer process.

Example
-------
>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> with ResultsStore(os.path.join(folder, "sweep.sqlite")) as store:
...     counts = run_cases(store, [{"rod": {"diameter_mm": d}} for d in (5.5, 6.0)],
...                        lambda p: {"rod_stress_mpa": 100.0 / p["rod"]["diameter_mm"]})
...     print(counts, store.summary())
{'done': 2, 'failed': 0, 'skipped': 0} {'done': 2, 'failed': 0}
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Self

from spinesim import __version__
from spinesim.atomic import atomic_path
from spinesim.errors import StoreError

logger = logging.getLogger(__name__)

__all__ = ["ResultsStore", "StoreError", "case_key", "run_cases"]

#: Seconds a writer waits for another process's write lock before giving up. Writes are one
#: small row each (milliseconds), so this is only reached if another process holds the lock
#: far longer than any store operation does, e.g. it was stopped (SIGSTOP) mid-transaction.
BUSY_TIMEOUT_S = 60.0

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    key        TEXT PRIMARY KEY,
    params     TEXT NOT NULL,
    outcomes   TEXT,
    version    TEXT NOT NULL,
    created    TEXT NOT NULL,
    duration_s REAL,
    status     TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error      TEXT
)
"""
_COLUMNS = ("key", "params", "outcomes", "version", "created", "duration_s", "status", "error")
# A done case is never replaced (idempotent put); a failed one is replaced by a retry.
_UPSERT = (
    f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
    + " WHERE cases.status <> 'done'"
)
#: Columns of :meth:`ResultsStore.rows` that are not parameters or outcomes.
META_COLUMNS = ("key", "status", "error", "version", "created", "duration_s")




# ------------------------------------------------------------------------------ case keys
def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _canonical(value: Any, path: str, *, allow_nan: bool) -> Any:
    """Return ``value`` as plain JSON types (dict with str keys, list, str, int, float, bool,
    None), converting numpy scalars and arrays; raise TypeError naming ``path`` otherwise."""
    np = sys.modules.get("numpy")  # a value can only be a numpy object if numpy is imported
    if np is not None and isinstance(value, (np.generic, np.ndarray)):
        if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
            raise TypeError(
                f"parameter {path or '<root>'!r}: unsupported numpy array dtype "
                f"{value.dtype} (only bool, integer and float arrays)"
            )
        value = value.tolist() if isinstance(value, np.ndarray) else value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not allow_nan and not math.isfinite(value):
            raise ValueError(f"parameter {path or '<root>'!r}: non-finite value {value!r}")
        return float(value) + 0.0  # plain float; -0.0 becomes 0.0
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"parameter {path or '<root>'!r}: keys must be str, got {k!r} "
                    f"({type(k).__name__})"
                )
            out[str.__str__(k)] = _canonical(v, _join(path, k), allow_nan=allow_nan)
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{path}[{i}]", allow_nan=allow_nan) for i, v in enumerate(value)]
    raise TypeError(
        f"parameter {path or '<root>'!r}: unsupported value {value!r} of type "
        f"{type(value).__name__} (use dicts, lists, numbers, strings, bools or None)"
    )


def _dumps(value: Any, *, allow_nan: bool) -> str:
    # json writes floats with float.__repr__, the shortest string that round-trips: 0.1 -> "0.1"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=allow_nan)


def _canonical_params(params: Mapping) -> dict:
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping, got {type(params).__name__}")
    return _canonical(params, "", allow_nan=False)


def case_key(params: Mapping, version: str | None = None) -> str:
    """Stable identifier of one simulation case.

    Parameters
    ----------
    params : Mapping
        Fully resolved parameters: nested dicts (str keys) and lists of numbers, strings, bools
        and None; numpy scalars and arrays are converted to Python numbers and lists. Dict key
        order does not matter; tuples hash as lists; ``1`` and ``1.0`` are different values.
    version : str, optional
        spinesim version the case is computed with; ``spinesim.__version__`` by default.

    Returns
    -------
    str
        SHA-256 hex digest (64 characters).

    Raises
    ------
    TypeError
        For an unsupported value or a non-str key, naming its path (``hardware.rod.material``).
    ValueError
        For a NaN or infinite float.

    Examples
    --------
    >>> case_key({"a": 0.1, "b": [1, 2]}) == case_key({"b": (1, 2), "a": 0.1})
    True
    """
    canon = _canonical_params(params)
    version = __version__ if version is None else version
    text = _dumps({"params": canon, "spinesim": version}, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flatten(value: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in value.items():
        name = _join(prefix, k)
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, name))
        else:
            out[name] = v
    return out


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# ------------------------------------------------------------------------------ the store
class ResultsStore:
    """Results of simulation cases in one SQLite file.

    Parameters
    ----------
    path : str or os.PathLike
        Database file; created if missing. Its folder must exist. An existing database with
        tables but no ``cases`` table (another program's) is refused with a StoreError and
        left as it was.
    version : str, optional
        spinesim version recorded with each case and used for its key;
        ``spinesim.__version__`` by default.
    timeout_s : float
        Busy timeout: how long a write waits for another process's lock, in s.
    readonly : bool
        Open an existing store for reading only (SQLite ``mode=ro``): nothing is created or
        written, not even the tables, and a file that is not a spinesim store (no ``cases``
        table: another program's database, an empty file) is refused with a StoreError.
        Writes raise StoreError. For summaries of a store another process may be writing.

    Notes
    -----
    One connection per store object. Open the store in each worker process (a store passed to
    a worker by pickling reconnects there; one inherited through ``fork`` reconnects on first
    use). Each :meth:`put` is one ``BEGIN IMMEDIATE ... COMMIT`` transaction.
    """

    def __init__(self, path: str | os.PathLike, version: str | None = None,
                 timeout_s: float = BUSY_TIMEOUT_S, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.version = __version__ if version is None else version
        self.timeout_s = float(timeout_s)
        self.readonly = bool(readonly)
        self._conn: sqlite3.Connection | None = None
        self._inherited: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._conn = self._open()

    # -- connection -------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise StoreError(
                f"results store {str(self.path)!r}: folder {str(self.path.parent)!r} "
                "does not exist"
            )
        if self.path.is_dir():
            raise StoreError(f"results store {str(self.path)!r} is a folder, not a file")
        if self.readonly:
            return self._open_readonly()
        try:
            # isolation_level="IMMEDIATE": every write transaction takes the write lock at
            # BEGIN, so a writer waits (busy timeout) instead of failing on a lock upgrade.
            conn = sqlite3.connect(self.path, timeout=self.timeout_s,
                                   isolation_level="IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"results store {str(self.path)!r} cannot be opened: {exc}") from exc
        return self._prepared(conn, "opened", lambda: self._setup_with_retry(conn))

    def _prepared(self, conn: sqlite3.Connection, action: str,
                  prepare: Callable[[], object]) -> sqlite3.Connection:
        """``conn`` after ``prepare()``; on any error the connection is closed and an SQLite
        error becomes a StoreError naming the store (``cannot be <action>``)."""
        try:
            prepare()
        except sqlite3.OperationalError as exc:  # locked past the timeout, read-only, I/O
            conn.close()
            raise StoreError(f"results store {str(self.path)!r} cannot be {action}: "
                             f"{exc}") from exc
        except sqlite3.DatabaseError as exc:  # not a database, malformed
            conn.close()
            raise StoreError(
                f"results store {str(self.path)!r} is unreadable or not an SQLite database: "
                f"{exc}"
            ) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _setup_with_retry(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs an exclusive lock, and SQLite reports "database is
        # locked" at once (without the busy handler) when several processes create one store
        # at the same moment; retry until the busy timeout has passed.
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                return self._setup(conn)
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", 5) & 0xFF in (5, 6)  # BUSY, LOCKED
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.005 + 0.02 * random.random())

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
        # before anything is written: another program's database is refused, not given a
        # 'cases' table (nor switched to WAL)
        self._check_schema(conn, new_ok=True)
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":  # persistent in the file: set once, by its creator
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(
                f"results store {str(self.path)!r}: cannot use WAL journal (got {mode!r})"
            )
        conn.execute("PRAGMA synchronous = FULL")  # a committed case survives power loss
        with conn:
            conn.execute(_SCHEMA)
            user_version = conn.execute("PRAGMA user_version").fetchone()[0]
            if user_version == 0:
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        self._check_schema(conn)

    def _open_readonly(self) -> sqlite3.Connection:
        """A read-only connection (URI ``mode=ro``) to an existing store, its schema checked."""
        if not self.path.is_file():
            raise StoreError(f"results store {str(self.path)!r} does not exist")
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout_s)
        except sqlite3.Error as exc:
            raise StoreError(f"results store {str(self.path)!r} cannot be opened: {exc}") from exc

        def prepare() -> None:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
            self._check_schema(conn)

        return self._prepared(conn, "read", prepare)

    def _check_schema(self, conn: sqlite3.Connection, *, new_ok: bool = False) -> None:
        """StoreError unless ``conn`` holds a ``cases`` table of this schema version or, with
        ``new_ok``, is an empty database (no table at all: a store about to be created).

        The tables are read in one query: with two reads, a store that another process
        created between them (several workers opening one new store) looked like another
        program's database, a table but no ``cases`` table."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "cases" not in tables:
            if new_ok and not tables:
                return
            raise StoreError(f"{self.path}: not a spinesim results store (no 'cases' table)")
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        columns = tuple(r[1] for r in conn.execute("PRAGMA table_info(cases)"))
        if user_version > _SCHEMA_VERSION or set(_COLUMNS) - set(columns):
            raise StoreError(
                f"results store {str(self.path)!r}: not a spinesim results store of "
                f"schema {_SCHEMA_VERSION} (schema {user_version}, columns {columns})"
            )

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"results store {str(self.path)!r} is closed")
        if os.getpid() != self._pid:
            # inherited through fork: SQLite connections must not cross a fork. Keep the old
            # object alive (never close it here: that could disturb the parent's locks).
            self._inherited.append(self._conn)
            self._pid = os.getpid()
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None and os.getpid() == self._pid:
            self._conn.close()
        self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict:
        return {"path": self.path, "version": self.version, "timeout_s": self.timeout_s,
                "readonly": self.readonly}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["version"], state["timeout_s"],
                      readonly=state.get("readonly", False))

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- queries -----------------------------------------------------------------------
    def key(self, params: Mapping) -> str:
        """:func:`case_key` of ``params`` for this store's spinesim version."""
        return case_key(params, self.version)

    def has(self, key: str) -> bool:
        """True if case ``key`` is stored (done or failed)."""
        return self._db.execute("SELECT 1 FROM cases WHERE key = ?", (key,)).fetchone() is not None

    def keys(self) -> list[str]:
        """Keys of all stored cases, in the order they were first stored."""
        return [r[0] for r in self._db.execute("SELECT key FROM cases ORDER BY rowid")]

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]

    def get(self, key: str) -> dict | None:
        """One case as a dict (``key, params, outcomes, version, created, duration_s, status,
        error``; params and outcomes nested as stored), or None if absent."""
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM cases WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else self._decode(row)

    @staticmethod
    def _decode(row: tuple) -> dict:
        case = dict(zip(_COLUMNS, row))
        case["params"] = json.loads(case["params"])
        case["outcomes"] = None if case["outcomes"] is None else json.loads(case["outcomes"])
        return case

    def cases(self) -> list[dict]:
        """All cases as :meth:`get` returns them, in the order they were first stored."""
        cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM cases ORDER BY rowid")
        return [self._decode(r) for r in cur]

    def rows(self) -> list[dict]:
        """All cases as flat dicts, one per case, for tables and CSV.

        Columns: :data:`META_COLUMNS`, then the parameters flattened with dotted names
        (``hardware.rod.diameter_mm``), then the outcomes flattened the same way. A parameter
        named like a meta column is named ``params.<name>``; an outcome named like a parameter
        or meta column, ``outcomes.<name>``.
        """
        out = []
        for case in self.cases():
            row = {k: case[k] for k in META_COLUMNS}
            for name, value in _flatten(case["params"]).items():
                row[f"params.{name}" if name in row else name] = value
            for name, value in _flatten(case["outcomes"] or {}).items():
                row[f"outcomes.{name}" if name in row else name] = value
            out.append(row)
        return out

    def summary(self) -> dict[str, int]:
        """Number of cases by status: ``{"done": n, "failed": m}``."""
        counts = {"done": 0, "failed": 0}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM cases GROUP BY status"):
            counts[status] = n
        return counts

    def pending(self, param_list: Iterable[Mapping], *, retry_failed: bool = True
                ) -> list[tuple[str, dict]]:
        """Cases of ``param_list`` not yet done, as ``(key, params)`` in list order.

        Duplicates in ``param_list`` (same key) appear once. Failed cases count as pending
        unless ``retry_failed`` is False.
        """
        stored = dict(self._db.execute("SELECT key, status FROM cases"))
        out, seen = [], set()
        for params in param_list:
            key = self.key(params)
            status = stored.get(key)
            if key in seen or status == "done" or (status == "failed" and not retry_failed):
                continue
            seen.add(key)
            out.append((key, params))
        return out

    # -- writes ------------------------------------------------------------------------
    def put(self, key: str, params: Mapping, outcomes: Mapping | None, duration_s: float,
            status: str = "done", error: str | None = None) -> bool:
        """Store one case in its own transaction; return True if the row was written.

        Idempotent: a done case is never overwritten or duplicated, so concurrent or repeated
        puts of one key keep the first done result. A failed case is replaced by a later put
        of the same key (a retry), so :meth:`pending` and the stored row agree.

        Parameters
        ----------
        key : str
            :meth:`key` of ``params``; checked.
        params : Mapping
            Case parameters (stored canonicalised, numpy converted).
        outcomes : Mapping or None
            Results of the case: JSON-like values (NaN allowed); None for a failed case.
        duration_s : float
            Wall time of the case, in s.
        status : {"done", "failed"}
        error : str, optional
            Error message of a failed case.
        """
        if status not in ("done", "failed"):
            raise ValueError(f"status must be 'done' or 'failed', got {status!r}")
        canon = _canonical_params(params)
        expected = case_key(canon, self.version)
        if key != expected:
            raise ValueError(
                f"key {key!r} does not match its params (expected {expected!r} for "
                f"spinesim {self.version})"
            )
        if outcomes is not None and not isinstance(outcomes, Mapping):
            raise TypeError(f"outcomes must be a mapping or None, got {type(outcomes).__name__}")
        outcomes_json = None if outcomes is None else _dumps(
            _canonical(outcomes, "", allow_nan=True), allow_nan=True)
        try:
            with self._db as conn:  # BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error
                cur = conn.execute(_UPSERT, (
                    key, _dumps(canon, allow_nan=False), outcomes_json, self.version,
                    _utc_now(), float(duration_s), status, error,
                ))
        except sqlite3.Error as exc:
            raise StoreError(
                f"results store {str(self.path)!r}: cannot write case {key[:12]}: {exc}"
            ) from exc
        return cur.rowcount > 0

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write :meth:`rows` to a CSV file, atomically (temporary file, then rename).

        Lists and dicts are written as JSON text, None as an empty cell. Returns the path.
        """
        rows = self.rows()
        columns: dict[str, None] = dict.fromkeys(META_COLUMNS)
        for row in rows:
            columns.update(dict.fromkeys(row))
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), restval="")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        return path


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


# ------------------------------------------------------------------------------ running
def run_cases(store: ResultsStore, param_list: Iterable[Mapping],
              fn: Callable[[dict], Mapping], *, retry_failed: bool = True) -> dict[str, int]:
    """Run ``fn(params) -> outcomes`` for each pending case, storing each as it finishes.

    An exception from ``fn`` (or outcomes that cannot be stored as JSON) is stored as a
    failed case with its message and the run goes on; store errors and KeyboardInterrupt
    are raised.

    Returns
    -------
    dict
        ``{"done": n, "failed": m, "skipped": k}`` for this call; ``skipped`` counts the
        cases of ``param_list`` already done (and duplicates).
    """
    param_list = list(param_list)
    todo = store.pending(param_list, retry_failed=retry_failed)
    counts = {"done": 0, "failed": 0, "skipped": len(param_list) - len(todo)}
    for i, (key, params) in enumerate(todo, 1):
        t0 = time.perf_counter()
        try:
            outcomes = fn(params)
            if not isinstance(outcomes, Mapping):
                raise TypeError(f"fn returned {type(outcomes).__name__}, not a dict")
            _dumps(_canonical(outcomes, "", allow_nan=True), allow_nan=True)
            status, error = "done", None
        except Exception as exc:  # a failed case is a result, not a crash
            logger.warning("case %s failed: %s", key[:12], exc, exc_info=True)
            outcomes, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
        duration = time.perf_counter() - t0
        store.put(key, params, outcomes, duration, status=status, error=error)
        counts[status] += 1
        logger.info("case %d/%d %s %s in %.2f s", i, len(todo), key[:12], status, duration)
    return counts
