"""Reads a prepared cohort (`harvester prepare`, docs/data-contracts.md) and turns expert boxes
into target masks at the detector's output stride."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import CLASSES

SPLITS = ("region-train", "region-test", "record")
RECORD_LABELS = ("positive", "uncertain", "negative")


class DataError(Exception):
    """A prepared directory that cannot be used; the message says what is wrong and where."""


@dataclass
class Entry:
    """One line of index.jsonl."""

    i: int
    sop_instance_uid: str
    split: str
    record: dict[str, str] = field(default_factory=dict)
    boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    truth_boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    accession: str | None = None


@dataclass
class Prepared:
    """A prepared cohort: images as a read-only memory map of uint8 [N, size, size]."""

    root: Path
    meta: dict
    images: np.ndarray
    entries: list[Entry]

    @property
    def size(self) -> int:
        return int(self.meta["size"])

    def split(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.split == name]

    def batch(self, indices: list[int] | np.ndarray) -> np.ndarray:
        """float32 [B, 1, size, size] in [0, 1]."""
        idx = np.asarray(indices, dtype=np.int64)
        return (self.images[idx].astype(np.float32) / 255.0)[:, None]


def _parse_boxes(raw, where: str) -> list[tuple[str, tuple[float, float, float, float]]]:
    out = []
    for b in raw or []:
        cls, box = b.get("class"), b.get("box")
        if cls not in CLASSES:
            continue  # the detector does not learn other classes (e.g. 'other')
        if not (isinstance(box, list) and len(box) == 4):
            raise DataError(f"{where}: box must be [x0, y0, x1, y1], got {box!r}")
        x0, y0, x1, y1 = (float(v) for v in box)
        if x1 <= x0 or y1 <= y0:
            raise DataError(f"{where}: empty box {box!r}")
        out.append((cls, (x0, y0, x1, y1)))
    return out


def load_prepared(root: str | Path) -> Prepared:
    root = Path(root)
    meta_path = root / "meta.json"
    if not root.is_dir():
        raise DataError(f"prepared directory {root} does not exist (run `harvester prepare --cohort DIR`)")
    if not meta_path.is_file():
        raise DataError(f"{meta_path} is missing: is {root} a prepared directory?")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise DataError(f"{meta_path} is not valid JSON: {e}") from e
    for key in ("size", "count"):
        if not isinstance(meta.get(key), int) or meta[key] <= 0:
            raise DataError(f"{meta_path}: '{key}' must be a positive integer")
    if meta.get("dtype", "uint8") != "uint8":
        raise DataError(f"{meta_path}: dtype {meta.get('dtype')!r} is not supported (uint8 only)")
    classes = meta.get("classes", list(CLASSES))
    if list(classes) != list(CLASSES):
        raise DataError(f"{meta_path}: classes {classes} differ from the detector's {list(CLASSES)}")
    size, count = meta["size"], meta["count"]
    img_path = root / meta.get("file", "images.u8")
    if not img_path.is_file():
        raise DataError(f"{img_path} is missing")
    expected = count * size * size
    actual = img_path.stat().st_size
    if actual != expected:
        raise DataError(f"{img_path} holds {actual} bytes; meta.json says {count} x {size} x {size} = {expected}")
    images = np.memmap(img_path, dtype=np.uint8, mode="r", shape=(count, size, size))

    index_path = root / "index.jsonl"
    if not index_path.is_file():
        raise DataError(f"{index_path} is missing")
    entries: list[Entry] = []
    with index_path.open() as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{index_path}:{n}"
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{where}: not valid JSON: {e}") from e
            i = d.get("i")
            if not isinstance(i, int) or not 0 <= i < count:
                raise DataError(f"{where}: 'i' must be an image index in [0, {count})")
            split = d.get("split")
            if split not in SPLITS:
                raise DataError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
            record = d.get("record") or {}
            for cls, v in record.items():
                if v not in RECORD_LABELS:
                    raise DataError(f"{where}: record label {cls}={v!r} is not one of {RECORD_LABELS}")
            entries.append(Entry(
                i=i, sop_instance_uid=str(d.get("sopInstanceUid", "")), split=split, record=record,
                boxes=_parse_boxes(d.get("boxes"), where),
                truth_boxes=_parse_boxes(d.get("truthBoxes"), where),
                accession=d.get("accession"),
            ))
    if len(entries) != count:
        raise DataError(f"{index_path} has {len(entries)} lines; meta.json says count = {count}")
    return Prepared(root=root, meta=meta, images=images, entries=entries)


def box_cells(box: tuple[float, float, float, float], stride: int, h: int, w: int) -> tuple[slice, slice]:
    """Output cells covered by a box (input pixels, x1/y1 exclusive): the cells whose centre lies
    inside it, or the one cell holding the box's centre when the box is smaller than a cell. The
    same rule decides FROC hits (evaluate.py), so a cell trained positive is a hit."""
    x0, y0, x1, y1 = box
    # Cell j has centre (j + 0.5) * stride; inside when x0 <= c < x1.
    j0 = max(0, int(np.ceil(x0 / stride - 0.5)))
    j1 = min(w, int(np.ceil(x1 / stride - 0.5)))
    i0 = max(0, int(np.ceil(y0 / stride - 0.5)))
    i1 = min(h, int(np.ceil(y1 / stride - 0.5)))
    if j1 <= j0:
        j0 = min(w - 1, max(0, int((x0 + x1) / 2 // stride)))
        j1 = j0 + 1
    if i1 <= i0:
        i0 = min(h - 1, max(0, int((y0 + y1) / 2 // stride)))
        i1 = i0 + 1
    return slice(i0, i1), slice(j0, j1)


def box_mask(boxes, size: int, stride: int) -> np.ndarray:
    """float32 [C, size/stride, size/stride]: 1 in each class's boxes, 0 elsewhere."""
    h = w = size // stride
    m = np.zeros((len(CLASSES), h, w), dtype=np.float32)
    for cls, box in boxes:
        rows, cols = box_cells(box, stride, h, w)
        m[CLASSES.index(cls), rows, cols] = 1.0
    return m


def has_class(entry: Entry, cls: str, truth: bool = False) -> bool:
    return any(c == cls for c, _ in (entry.truth_boxes if truth else entry.boxes))
