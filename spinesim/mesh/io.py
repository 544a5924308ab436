"""Reading and writing meshes through meshio, keeping region tags, region names and node sets.

All coordinates are in mm; they are read and written as float64 without unit conversion.

How regions are stored per format
---------------------------------
Region *tags* always travel as integers per cell; region *names* as meshio ``field_data``
entries ``{name: array([tag, dim])}`` (the Gmsh convention, ``dim`` = topological dimension of
the cells carrying the tag), injected into the file where meshio itself does not write them:

* VTU: cell data ``region`` (int32). Names: a VTK ``<FieldData>`` block with one ascii Int64
  ``DataArray`` per region, ``Name=<region name>``, values ``tag dim`` (meshio's VTU reader reads
  FieldData back as ``field_data``; ParaView shows it as field arrays). Node sets: point data
  ``nodeset:<name>`` (uint8 mask).
* XDMF (+ HDF5 companion ``<stem>.h5``): cell data ``region``; names in an ``<Information>``
  element of the grid in the XML layout meshio's XDMF reader parses
  (``<main><map key=name dim=d>tag</map></main>``). Node sets as for VTU.
* Gmsh ``.msh`` 4.1 (default for ``.msh``) and 2.2 (``file_format="gmsh22"``): ``gmsh:physical``
  tags with ``$PhysicalNames``. In 4.1 physical tags belong to entities, so each block is split
  into runs of equal region, one entity each (nodes are assigned to entities in contiguous index
  ranges, keeping the node order); consecutive blocks of the same type are merged back on read.
  Node sets as ``nodeset:<name>`` NodeData.
* Abaqus ``.inp``: one ``*ELSET`` per region (named; unnamed tags become ``region_<tag>``), node
  sets as ``*NSET``; the tag of each set is kept in comment lines
  ``** spinesim-region <tag> <name>`` (ignored by Abaqus). On read, each named element set
  becomes a region (tags from those comments, from ``region_<tag>`` names, else numbered 1, 2,
  ... in file order); a cell in several sets gets the tag of the smallest set.
* Medit ``.mesh``: ``medit:ref`` per cell; no names (read back as ``region_<tag>``), no node
  sets, no cell or point data, and no quadratic cells (writing tetra10/triangle6 raises).

Exactness: points, cells and tags round-trip exactly in all these formats (meshio writes text
coordinates of msh ascii, inp and mesh with 17 significant digits, ``%.16e``, which is exact
for float64). Caller ``cell_data`` is defined over solid cells; facet and line blocks are
padded with NaN (float data) or 0 (integer/bool data). Abaqus and Medit drop point and cell data
(with a logged warning).

Writes are atomic: the file (and the XDMF ``.h5`` companion) is written in a temporary folder
next to the target and moved in place with ``os.replace`` (companion first); nothing is left
behind on failure.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

import meshio
import numpy as np

from spinesim.errors import MeshError
from spinesim.mesh.mesh import NODES_PER_CELL, CellBlock, Mesh

logger = logging.getLogger(__name__)

_TAG_KEYS = ("region", "gmsh:physical", "medit:ref")
_NODESET_PREFIX = "nodeset:"
_CELL_INDEX = "spinesim:cell_index"
_ABQ_COMMENT = "** spinesim-region"
_DIM = {"tetra": 3, "tetra10": 3, "hexahedron": 3, "triangle": 2, "triangle6": 2, "quad": 2,
        "line": 1}


# --------------------------------------------------------------------------------- reading
def _topo_dim(cell_type: str) -> int:
    from meshio._mesh import topological_dimension

    return int(topological_dimension.get(cell_type, 3))


def _format_of(path: Path, file_format: str | None) -> str:
    if file_format is not None:
        return file_format
    from meshio._helpers import _filetypes_from_path

    try:
        types = _filetypes_from_path(path)
        return "gmsh" if "gmsh" in types else types[0]
    except Exception as exc:  # meshio.ReadError
        raise MeshError(f"cannot deduce the mesh format of {path}: {exc}") from None


#: Extensions named first in the message for an unknown one (the formats documented above).
_MAIN_EXTENSIONS = (".vtu", ".xdmf", ".msh", ".inp", ".mesh")


def _format_or_raise(path: Path) -> None:
    """MeshError naming the file and the known extensions if meshio has no reader for it."""
    try:  # meshio's extension tables are private: without them meshio's own error stands
        from meshio._helpers import _filetypes_from_path, extension_to_filetypes, reader_map
    except ImportError:
        return
    try:
        if any(t in reader_map for t in _filetypes_from_path(path)):
            return
    except meshio.ReadError:  # unknown extension
        pass
    others = sorted(e for e in extension_to_filetypes if e not in _MAIN_EXTENSIONS
                    and any(t in reader_map for t in extension_to_filetypes[e]))
    raise MeshError(f"{path}: unknown mesh file extension {path.suffix or '(none)'!r}; "
                    f"allowed: {', '.join(_MAIN_EXTENSIONS)} (with region names and node sets) "
                    f"or another meshio format ({', '.join(others)})")


def _abaqus_tags(path: Path) -> dict[str, int]:
    """Set name -> tag from our ``** spinesim-region`` comments (cheap line scan)."""
    out: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith(_ABQ_COMMENT):
                parts = line[len(_ABQ_COMMENT):].strip().split(" ", 1)
                if len(parts) == 2 and parts[0].lstrip("-").isdigit():
                    out[parts[1].rstrip("\r\n")] = int(parts[0])
    return out


def _tags_from_cell_sets(m: meshio.Mesh, path: Path) -> tuple[list[np.ndarray], dict[int, str]]:
    sets = {k: v for k, v in m.cell_sets.items() if not k.startswith("gmsh:")}
    tags = [np.zeros(len(b.data), np.int32) for b in m.cells]
    if not sets:
        return tags, {}
    known = _abaqus_tags(path) if path.suffix.lower() == ".inp" else {}
    names: dict[int, str] = {}
    used = set(known.values())
    nxt = 1
    for name in sets:  # file order
        if name in known:
            tag = known[name]
        elif (mt := re.fullmatch(r"region_(-?\d+)", name)) and int(mt.group(1)) not in used:
            tag = int(mt.group(1))
        else:
            while nxt in used:
                nxt += 1
            tag = nxt
        used.add(tag)
        names[tag] = name
    by_name = {v: k for k, v in names.items()}
    sizes = {k: sum(len(np.asarray(a)) for a in v) for k, v in sets.items()}
    for name in sorted(sets, key=lambda k: -sizes[k]):  # smaller sets override larger ones
        for i, ids in enumerate(sets[name]):
            ids = np.asarray(ids, dtype=np.int64)
            if len(ids):
                tags[i][ids] = by_name[name]
    return tags, names


def _merge_consecutive(blocks: list[CellBlock], index: list[np.ndarray] | None
                       ) -> list[CellBlock]:
    """Merge consecutive blocks of one type; reorder cells by ``index`` (msh 4.1 write order)."""
    groups: list[list[int]] = []
    for i, b in enumerate(blocks):
        if groups and blocks[groups[-1][-1]].type == b.type:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for g in groups:
        cells = np.vstack([blocks[i].cells for i in g])
        region = np.concatenate([blocks[i].region for i in g])
        if index is not None:
            order = np.argsort(np.concatenate([index[i] for i in g]), kind="stable")
            cells, region = cells[order], region[order]
        out.append(blocks[g[0]] if len(g) == 1 and index is None
                   else CellBlock(blocks[g[0]].type, cells, region))
    return out


def _translate_mixed_cells(data: np.ndarray) -> list:
    """Vectorised replacement for meshio's XDMF ``Mixed`` topology decoder (which lacks
    tetra10/triangle6 and loops over cells in Python). Loops over runs of one type only: the
    first position whose value differs from the run's type id is the start of the next run."""
    from meshio import CellBlock as MCellBlock
    from meshio._common import num_nodes_per_cell
    from meshio.xdmf.common import xdmf_idx_to_meshio_type

    data = np.asarray(data).ravel()
    out, r = [], 0
    while r < len(data):
        t = int(data[r])
        ctype = xdmf_idx_to_meshio_type.get(t)
        if ctype is None:
            raise MeshError(f"unknown XDMF cell type id {t} in Mixed topology")
        head = 2 if t == 2 else 1  # polyline: type id and node count
        stride = head + num_nodes_per_cell[ctype]
        starts = np.arange(r, len(data) - stride + 1, stride)
        mismatch = np.flatnonzero(data[starts] != t)
        count = int(mismatch[0]) if mismatch.size else len(starts)
        rows = data[r:r + count * stride].reshape(count, stride)
        out.append(MCellBlock(ctype, np.ascontiguousarray(rows[:, head:])))
        r += count * stride
    return out


def read_meshio(path: str | os.PathLike) -> meshio.Mesh:
    """The raw ``meshio.Mesh`` of a file, with meshio's failures as errors that name the file.

    meshio prints some reader errors and calls ``sys.exit(1)``; here every failure is a
    :class:`MeshError` (or ``FileNotFoundError`` / ``IsADirectoryError``) naming the file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a mesh file")
    if not path.is_file():
        raise FileNotFoundError(f"mesh file not found: {path}")
    _format_or_raise(path)
    chatter = io.StringIO()  # meshio prints its reader errors, then calls sys.exit(1)
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            if path.suffix.lower() in (".xdmf", ".xmf"):
                import meshio.xdmf.main as xdmf_main

                orig = xdmf_main.translate_mixed_cells
                xdmf_main.translate_mixed_cells = _translate_mixed_cells
                try:
                    m = meshio.read(path)
                finally:
                    xdmf_main.translate_mixed_cells = orig
            else:
                m = meshio.read(path)
    except MeshError:
        raise
    except SystemExit:
        said = "; ".join(line.strip() for line in chatter.getvalue().splitlines()
                         if line.strip() and not line.strip().startswith("Error:"))
        raise MeshError(f"cannot read mesh {path}: not a valid {path.suffix or 'mesh'} file"
                        + (f" ({said})" if said else "")) from None
    except Exception as exc:
        raise MeshError(f"cannot read mesh {path}: {type(exc).__name__}: {exc}") from exc
    return m


def read_mesh(path: str | os.PathLike, *, check: bool = True) -> Mesh:
    """Read a mesh file (any meshio format) into a :class:`Mesh` (coordinates in mm).

    Parameters
    ----------
    path : str or PathLike
        Mesh file; format from the extension (VTU, XDMF, Gmsh msh 2.2/4.1, Abaqus inp, Medit
        mesh, ...).
    check : bool
        Run :func:`spinesim.mesh.checks.check_mesh` on the result.

    Returns
    -------
    Mesh
        Region tags from cell data ``region``, ``gmsh:physical``, ``medit:ref`` or Abaqus
        element sets; names from ``field_data`` (or set names); node sets from ``point_sets``
        and ``nodeset:<name>`` point data. Consecutive blocks of one type are merged.

    Raises
    ------
    MeshError
        Unreadable file, unsupported 3D cell type, or (``check=True``) an invalid mesh.
    """
    path = Path(path)
    m = read_meshio(path)

    points = np.asarray(m.points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] not in (2, 3):
        raise MeshError(f"{path}: points must have 2 or 3 columns, got shape {points.shape}")
    if points.shape[1] == 2:
        points = np.column_stack([points, np.zeros(len(points))])

    key = next((k for k in _TAG_KEYS if k in m.cell_data), None)
    if key is not None:
        tags = [np.asarray(t).astype(np.int32).ravel() for t in m.cell_data[key]]
        names: dict[int, str] = {}
    else:
        tags, names = _tags_from_cell_sets(m, path)

    # names from field_data {name: [tag, dim]}; a tag named for several dims (Gmsh physical
    # volume 1 and physical surface 1) is renumbered for the lower dims.
    named: dict[tuple[int, int], str] = {}
    for name, val in m.field_data.items():
        val = np.asarray(val).ravel()
        if val.size >= 1 and np.issubdtype(val.dtype, np.number):
            named[(int(val[1]) if val.size > 1 else 3, int(val[0]))] = str(name)
    dims_of: dict[int, list[int]] = {}
    for dim, tag in named:
        dims_of.setdefault(tag, []).append(dim)
    used_tags = {t for t in dims_of} | {int(t) for a in tags for t in np.unique(a)}
    remap: dict[tuple[int, int], int] = {}
    nxt = max(used_tags, default=0) + 1
    for tag, dims in dims_of.items():
        for dim in sorted(dims, reverse=True)[1:]:
            remap[(dim, tag)] = nxt
            logger.info("%s: physical tag %d of dim %d renumbered to %d", path, tag, dim, nxt)
            nxt += 1
    for (dim, tag), name in named.items():
        names[remap.get((dim, tag), tag)] = name

    supported = ", ".join(NODES_PER_CELL)
    blocks: list[CellBlock] = []
    raw_index = m.cell_data.get(_CELL_INDEX)
    index: list[np.ndarray] | None = [] if raw_index is not None else None
    for ib, (cb, tag) in enumerate(zip(m.cells, tags)):
        ctype = cb.type
        if ctype not in NODES_PER_CELL:
            dim = _topo_dim(ctype)
            if dim >= 3:
                raise MeshError(f"{path}: unsupported cell type {ctype!r} ({len(cb.data)} cells);"
                                f" supported: {supported}")
            log = logger.warning if dim == 2 else logger.debug
            log("%s: dropping %d %s cells (unsupported %dD type)", path, len(cb.data), ctype, dim)
            continue
        if ctype == "line" and not np.any(tag):
            logger.debug("%s: dropping %d untagged line cells (not beams)", path, len(cb.data))
            continue
        if remap:
            for (dim, t), new in remap.items():
                if dim == _DIM[ctype]:
                    tag = np.where(tag == t, new, tag).astype(np.int32)
        blocks.append(CellBlock(ctype, np.asarray(cb.data), tag))
        if index is not None:
            index.append(np.asarray(raw_index[ib]).ravel())
    blocks = _merge_consecutive(blocks, index)

    if key == "medit:ref":
        names = {int(t): f"region_{int(t)}" for t in
                 np.unique(np.concatenate([b.region for b in blocks] or [np.zeros(0, int)]))}

    node_sets = {k: np.asarray(v, np.int64).ravel() for k, v in m.point_sets.items()
                 if not k.startswith("gmsh:")}
    for k, v in m.point_data.items():
        if k.startswith(_NODESET_PREFIX):
            node_sets[k[len(_NODESET_PREFIX):]] = np.flatnonzero(np.asarray(v).ravel() != 0)

    mesh = Mesh(points, tuple(blocks), names, node_sets)
    logger.debug("read %s: %r", path, mesh)
    if check:
        from spinesim.mesh.checks import check_mesh

        check_mesh(mesh, source=str(path))
    return mesh


# --------------------------------------------------------------------------------- writing
def _split_cell_data(mesh: Mesh, cell_data: dict | None) -> dict[str, list[np.ndarray]]:
    out: dict[str, list[np.ndarray]] = {}
    n_solid = mesh.n_solid_cells
    for name, arr in (cell_data or {}).items():
        arr = np.asarray(arr)
        if arr.shape[:1] != (n_solid,):
            raise MeshError(f"cell_data {name!r} must have {n_solid} rows (solid cells in block "
                            f"order), got shape {arr.shape}")
        fill = np.nan if np.issubdtype(arr.dtype, np.floating) else 0
        parts, start = [], 0
        for b in mesh.blocks:
            if b.type in ("tetra", "tetra10", "hexahedron"):
                parts.append(arr[start:start + len(b)])
                start += len(b)
            else:
                parts.append(np.full((len(b),) + arr.shape[1:], fill, dtype=arr.dtype))
        out[str(name)] = parts
    return out


def _region_field_data(mesh: Mesh) -> dict[str, np.ndarray]:
    dims: dict[int, int] = {}
    for b in mesh.blocks:
        for t in np.unique(b.region):
            dims[int(t)] = max(dims.get(int(t), 0), _DIM[b.type])
    return {name: np.array([tag, dims.get(tag, 3)]) for tag, name in mesh.region_names.items()}


def _entity_split(mesh: Mesh, cell_data: dict[str, list[np.ndarray]]):
    """msh 4.1: one entity per (block, region). Cells are stably sorted by region within each
    block; if that changed the order, ElementData ``spinesim:cell_index`` keeps the original
    solid/facet index (block order) so that :func:`read_mesh` restores it."""
    cells, phys, geo, data = [], [], [], {k: [] for k in cell_data}
    index: list[np.ndarray] = []
    dim_tags = []
    next_tag = {0: 1, 1: 1, 2: 1, 3: 1}
    reordered, start = False, 0
    for i, b in enumerate(mesh.blocks):
        order = np.argsort(b.region, kind="stable")
        reordered |= bool(np.any(order != np.arange(len(b))))
        reg = b.region[order]
        cuts = np.flatnonzero(np.diff(reg)) + 1
        for s, e in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(b)]])):
            d = _DIM[b.type]
            tag = next_tag[d]
            next_tag[d] += 1
            sel = order[s:e]
            cells.append((b.type, b.cells[sel]))
            phys.append(reg[s:e])
            geo.append(np.full(e - s, tag, np.int32))
            index.append((start + sel).astype(np.float64))
            dim_tags.append((d, tag))
            for k in cell_data:
                data[k].append(cell_data[k][i][sel])
        start += len(b)
    if reordered:
        data[_CELL_INDEX] = index
    if len(dim_tags) > max(mesh.n_nodes, 1):
        raise MeshError(f"msh 4.1 needs one node per entity ({len(dim_tags)} entities, "
                        f"{mesh.n_nodes} nodes); use file_format='gmsh22'")
    # every entity needs >= 1 node; contiguous node ranges keep the node order on read
    ents = np.array(sorted(dim_tags), dtype=int).reshape(-1, 2)
    idx = np.minimum(np.arange(mesh.n_nodes), len(ents) - 1)
    return cells, phys, geo, data, ents[idx]


def _inject_vtu_names(path: Path, field_data: dict[str, np.ndarray]) -> None:
    arrays = "".join(
        f'<DataArray type="Int64" Name={quoteattr(n)} NumberOfTuples="{len(v)}" '
        f'format="ascii">{" ".join(str(int(x)) for x in v)}</DataArray>\n'
        for n, v in field_data.items())
    text = path.read_bytes()
    anchor = text.find(b"<UnstructuredGrid>")
    if anchor < 0:
        raise MeshError(f"unexpected VTU layout written by meshio in {path}")
    at = anchor + len(b"<UnstructuredGrid>")
    block = ("\n<FieldData>\n" + arrays + "</FieldData>").encode("utf-8")
    path.write_bytes(text[:at] + block + text[at:])


def _inject_xdmf_names(path: Path, field_data: dict[str, np.ndarray]) -> None:
    tree = ET.parse(path)
    grid = tree.getroot().find("Domain/Grid")
    if grid is None:
        raise MeshError(f"unexpected XDMF layout written by meshio in {path}")
    main = ET.Element("main")
    for n, (tag, dim) in field_data.items():
        ET.SubElement(main, "map", key=n, dim=str(int(dim))).text = str(int(tag))
    info = ET.Element("Information", Name="region_names")
    info.text = ET.tostring(main, encoding="unicode")
    grid.insert(0, info)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_mesh(path: str | os.PathLike, mesh: Mesh, *, point_data: dict | None = None,
               cell_data: dict | None = None, file_format: str | None = None) -> None:
    """Write ``mesh`` (coordinates in mm) atomically in any meshio format.

    Parameters
    ----------
    path : str or PathLike
        Target file; its folder must exist.
    mesh : Mesh
        The mesh; region tags, names and node sets are written as described in the module
        docstring.
    point_data : dict, optional
        name -> array of shape (n_nodes, ...).
    cell_data : dict, optional
        name -> array over the solid cells in block order, shape (n_solid_cells, ...); facet
        and line blocks get NaN (float) or 0 (integer) rows.
    file_format : str, optional
        meshio format name (e.g. ``"gmsh22"``); default from the extension.

    Raises
    ------
    FileNotFoundError
        The target folder does not exist.
    MeshError
        Bad data shapes or a meshio write failure. No temporary file is left behind.
    """
    path = Path(path)
    fmt = _format_of(path, file_format)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write mesh {path}: folder {parent} does not exist")
    pdata = {}
    for k, v in (point_data or {}).items():
        v = np.asarray(v)
        if v.shape[:1] != (mesh.n_nodes,):
            raise MeshError(f"point_data {k!r} must have {mesh.n_nodes} rows, got {v.shape}")
        pdata[str(k)] = v
    cdata = _split_cell_data(mesh, cell_data)
    regions = [b.region for b in mesh.blocks]
    fdata = _region_field_data(mesh)
    masks = {}
    for name, ids in mesh.node_sets.items():
        mask = np.zeros(mesh.n_nodes, np.uint8)
        mask[ids] = 1
        masks[_NODESET_PREFIX + name] = mask
    cells = [(b.type, b.cells) for b in mesh.blocks]
    names_to_inject = None
    if fmt in ("vtu", "xdmf"):
        m = meshio.Mesh(mesh.points, cells, point_data={**pdata, **masks},
                        cell_data={**cdata, "region": regions})
        names_to_inject = fdata or None
    elif fmt == "gmsh22":
        fmasks = {k: v.astype(np.float64) for k, v in masks.items()}
        if len(mesh.blocks) > 1 and (fmasks or pdata or cdata):
            # meshio 5.3 cannot read back msh 2.2 data of multi-block meshes
            logger.warning("%s: msh 2.2 output of a multi-block mesh drops point_data, "
                           "cell_data and node sets (use msh 4.1)", path)
            fmasks, pdata, cdata = {}, {}, {}
        m = meshio.Mesh(mesh.points, cells, point_data={**pdata, **fmasks}, field_data=fdata,
                        cell_data={**cdata, "gmsh:physical": regions, "gmsh:geometrical": regions})
    elif fmt == "gmsh":
        fmasks = {k: v.astype(np.float64) for k, v in masks.items()}
        rc, phys, geo, data, dim_tags = _entity_split(mesh, cdata)
        m = meshio.Mesh(mesh.points, rc, point_data={**pdata, **fmasks,
                                                     "gmsh:dim_tags": dim_tags},
                        field_data=fdata,
                        cell_data={**data, "gmsh:physical": phys, "gmsh:geometrical": geo})
    elif fmt == "abaqus":
        if pdata or cdata:
            logger.warning("%s: Abaqus output drops point_data and cell_data", path)
        tag_names = {t: mesh.region_names.get(t, f"region_{t}") for t in
                     sorted({int(t) for r in regions for t in np.unique(r)})}
        sets = {name: [np.flatnonzero(r == t) for r in regions] for t, name in tag_names.items()}
        m = meshio.Mesh(mesh.points, cells, cell_sets=sets, point_sets=dict(mesh.node_sets))
    elif fmt == "medit":
        bad = sorted({b.type for b in mesh.blocks} - {"tetra", "hexahedron", "triangle", "quad",
                                                       "line"})
        if bad:
            raise MeshError(f"cannot write mesh {path}: Medit .mesh cannot store {bad} cells "
                            "(meshio supports tetra, hexahedron, triangle, quad, line); "
                            "use .vtu, .xdmf or .msh")
        if pdata or cdata:
            logger.warning("%s: Medit output drops point_data and cell_data", path)
        m = meshio.Mesh(mesh.points, cells, cell_data={"medit:ref": regions})
    else:
        m = meshio.Mesh(mesh.points, cells, point_data=pdata,
                        cell_data={**cdata, "region": regions}, field_data=fdata)

    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
    try:
        tmp = tmpdir / path.name
        try:
            meshio.write(tmp, m, file_format=fmt)
        except OSError:
            raise
        except Exception as exc:
            raise MeshError(f"cannot write mesh {path} as {fmt}: {type(exc).__name__}: {exc}"
                            ) from exc
        if names_to_inject and fmt == "vtu":
            _inject_vtu_names(tmp, names_to_inject)
        elif names_to_inject and fmt == "xdmf":
            _inject_xdmf_names(tmp, names_to_inject)
        if fmt == "abaqus" and tag_names:
            with open(tmp, "a", encoding="utf-8") as fh:
                fh.writelines(f"{_ABQ_COMMENT} {t} {n}\n" for t, n in tag_names.items())
        for extra in sorted(tmpdir.iterdir()):  # companions (XDMF .h5) before the main file
            if extra.name != path.name:
                os.replace(extra, parent / extra.name)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    logger.debug("wrote %s (%s): %r", path, fmt, mesh)
