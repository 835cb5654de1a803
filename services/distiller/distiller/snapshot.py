"""A job's training data taken from the database and the training store, not from a cohort folder
(docs/data-contracts.md, "Training store" and "A job's snapshot").

  D_R       every expert-reviewed image (region_annotated_images) with its boxes (region_annotations,
            none = fracture-free), split region-train / region-test;
  D_I       the pseudo-labels of one teacher version created up to the job's watermark, for images
            not in D_R (a held-out image is never trained on, a D_R train image keeps its true mask);
  inputs    each image's model input from the training store (training_inputs -> training_shards),
            the bytes the teacher saw, checked against their SHA-256.

The result is a `Prepared` (the same in-memory shape as a prepared folder), the stored targets by
(image, class), and a summary that traces the model to exactly this data: counts per class and
record status, watermark, teacher, preprocessing version, shards and a digest of the list.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

from . import CLASSES
from .data import DataError, Entry, Prepared
from .pseudo_labels import connect, dequantise

PREPROCESSING_REVISION = 1
"""Bumped with services/shared/training-store/model-input-bytes.ts when preprocessing changes."""


def preprocessing_version(width: int, height: int) -> str:
    """The key stored inputs are indexed by, e.g. fh1-256x256-u8 (the TypeScript side says the same)."""
    return f"fh{PREPROCESSING_REVISION}-{width}x{height}-u8"


def store_root(url: str) -> Path:
    """file:///path or a plain path -> the folder; other schemes are refused."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path) if parsed.scheme else url)
    raise DataError(f"training store {url}: only file:// stores are supported")


@dataclass
class Snapshot:
    prepared: Prepared
    pseudo: dict  # (sop_instance_uid, class) -> float32 [h, w] stored target (positives only)
    summary: dict


def _scale_box(box, rows: int, columns: int, width: int, height: int):
    """Stored-image pixels -> model-input pixels (the image is stretched), as scaleBox in TypeScript."""
    sx, sy = width / columns, height / rows
    x0, y0, x1, y1 = box
    r = lambda v: round(v * 1000) / 1000  # noqa: E731
    return (r(x0 * sx), r(y0 * sy), r(x1 * sx), r(y1 * sy))


def teacher_input_size(conn, version: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT input_size FROM model_versions WHERE version = %s", (version,))
        row = cur.fetchone()
    if not row or not row[0]:
        raise DataError(f"model {version} has no input_size in model_versions: pass --input-size")
    return int(row[0])


def _read_inputs(root: Path, refs: list[tuple], size: int) -> tuple[np.ndarray, list[str]]:
    """refs: (shard path, byte offset, checksum) per image, in output order. Reads each shard once."""
    plane = size * size
    images = np.empty((len(refs), size, size), dtype=np.uint8)
    by_shard: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for n, (path, offset, checksum) in enumerate(refs):
        by_shard[path].append((n, int(offset), checksum))
    for path, members in by_shard.items():
        file = root / path
        try:
            data = np.fromfile(file, dtype=np.uint8)
        except OSError as e:
            raise DataError(f"training store shard {path} is not readable under {root}: {e}") from e
        for n, offset, checksum in members:
            chunk = data[offset:offset + plane]
            if chunk.size != plane:
                raise DataError(f"training store shard {path} is truncated (offset {offset})")
            if hashlib.sha256(chunk.tobytes()).hexdigest() != checksum:
                raise DataError(f"training store shard {path}: the input at offset {offset} fails its checksum")
            images[n] = chunk.reshape(size, size)
    return images, sorted(by_shard)


def load_snapshot(database: str, store: str, teacher_version: str | None, watermark: datetime | None,
                  input_size: int | None = None, with_pseudo_labels: bool = True) -> Snapshot:
    """Reads a job's data (see the module doc). `teacher_version` None (or with_pseudo_labels False):
    D_R only (supervised training). `watermark` None: every label of the version."""
    started = time.perf_counter()
    root = store_root(store)
    conn = connect(database)
    try:
        if input_size is None:
            if not teacher_version:
                raise DataError("the input size is unknown: pass --input-size (or --teacher-version)")
            input_size = teacher_input_size(conn, teacher_version)
        version = preprocessing_version(input_size, input_size)
        with conn.cursor() as cur:
            cur.execute(
                """SELECT r.sop_instance_uid, r.split, s.path, t.byte_offset, t.source_rows, t.source_columns,
                          t.checksum_sha256,
                          coalesce((SELECT json_agg(json_build_array(a.class, a.x0, a.y0, a.x1, a.y1)
                                                    ORDER BY a.id)
                                    FROM region_annotations a WHERE a.sop_instance_uid = r.sop_instance_uid),
                                   '[]'::json)
                   FROM region_annotated_images r
                   LEFT JOIN training_inputs t
                     ON t.sop_instance_uid = r.sop_instance_uid AND t.preprocessing_version = %s
                   LEFT JOIN training_shards s ON s.shard_id = t.shard_id
                   ORDER BY r.sop_instance_uid""", (version,))
            region_rows = cur.fetchall()
            label_rows, labels_without_input = [], 0
            if with_pseudo_labels and teacher_version:
                scope = ("p.model_version = %s AND (%s::timestamptz IS NULL OR p.created_at <= %s) AND NOT EXISTS "
                         "(SELECT 1 FROM region_annotated_images r WHERE r.sop_instance_uid = p.sop_instance_uid)")
                args = (teacher_version, watermark, watermark)
                cur.execute(
                    f"""SELECT p.sop_instance_uid, p.class, p.record_status, p.target_method,
                              CASE WHEN p.target_method = 'zero' THEN NULL ELSE p.target END,
                              p.target_height, p.target_width, s.path, t.byte_offset, t.checksum_sha256
                       FROM pseudo_labels p
                       JOIN training_inputs t
                         ON t.sop_instance_uid = p.sop_instance_uid AND t.preprocessing_version = %s
                       JOIN training_shards s ON s.shard_id = t.shard_id
                       WHERE {scope} AND p.class = ANY(%s)
                       ORDER BY p.sop_instance_uid, p.class""", (version, *args, list(CLASSES)))
                label_rows = cur.fetchall()
                cur.execute(
                    f"""SELECT count(*) FROM pseudo_labels p WHERE {scope} AND NOT EXISTS
                          (SELECT 1 FROM training_inputs t WHERE t.sop_instance_uid = p.sop_instance_uid
                             AND t.preprocessing_version = %s)""", (*args, version))
                labels_without_input = int(cur.fetchone()[0])
    finally:
        conn.close()

    entries: list[Entry] = []
    refs: list[tuple] = []
    region_counts = {"region-train": defaultdict(int), "region-test": defaultdict(int)}
    region_without_input = 0
    digest = hashlib.sha256()
    for sop, split, path, offset, rows, columns, checksum, boxes in region_rows:
        if path is None:
            region_without_input += 1
            continue
        scaled = [(cls, _scale_box((x0, y0, x1, y1), rows, columns, input_size, input_size))
                  for cls, x0, y0, x1, y1 in boxes if cls in CLASSES]
        entries.append(Entry(i=len(entries), sop_instance_uid=sop, split=split, boxes=scaled))
        refs.append((path, offset, checksum))
        c = region_counts[split]
        c["images"] += 1
        if not scaled:
            c["fractureFree"] += 1
        for cls in CLASSES:
            if any(k == cls for k, _ in scaled):
                c[f"positive_{cls}"] += 1
        digest.update(f"R|{sop}|{split}|{checksum}|{sorted(scaled)}\n".encode())

    pseudo: dict = {}
    label_counts = {cls: defaultdict(int) for cls in CLASSES}
    record_entry: dict[str, Entry] = {}
    for sop, cls, record_status, method, target, h, w, path, offset, checksum in label_rows:
        entry = record_entry.get(sop)
        if entry is None:
            entry = Entry(i=len(entries), sop_instance_uid=sop, split="record", record={})
            record_entry[sop] = entry
            entries.append(entry)
            refs.append((path, offset, checksum))
        # a zero target is a record negative; any other stored target is the label to learn
        entry.record[cls] = "negative" if method == "zero" else "positive"
        if method != "zero":
            pseudo[(sop, cls)] = dequantise(target, h, w)
            target_hash = hashlib.sha256(bytes(target)).hexdigest()[:16]
        else:
            target_hash = "zero"
        label_counts[cls][record_status] += 1
        digest.update(f"P|{sop}|{cls}|{record_status}|{checksum}|{target_hash}\n".encode())

    if not entries:
        raise DataError(
            "the snapshot is empty: no expert-reviewed image and no pseudo-label has a model input in the "
            f"training store at {version} (import annotations with harvester annotations import; let the "
            "pseudo-labeler label images)")
    images, shards = _read_inputs(root, refs, input_size)
    prepared = Prepared(root=root, meta={"size": input_size, "count": len(entries), "preprocessingVersion": version},
                        images=images, entries=entries)
    summary = {
        "source": "database",
        "teacherVersion": teacher_version if with_pseudo_labels else None,
        "watermark": watermark.isoformat() if watermark else None,
        "preprocessingVersion": version,
        "inputSize": input_size,
        "images": len(entries),
        "regionTrain": dict(region_counts["region-train"]),
        "regionTest": dict(region_counts["region-test"]),
        "regionWithoutInput": region_without_input,
        "pseudoLabels": {cls: dict(v) for cls, v in label_counts.items()},
        "pseudoLabelsWithoutInput": labels_without_input,
        "shards": {"count": len(shards), "paths": shards},
        "digest": digest.hexdigest(),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Snapshot(prepared=prepared, pseudo=pseudo, summary=summary)
