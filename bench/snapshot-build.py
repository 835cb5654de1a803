"""How long a distillation job takes to build its snapshot from Postgres and the training store
(distiller/snapshot.py): N images with a model input each, two pseudo-labels per image (10% of them
record-positive with a stored 64 x 64 target, the rest all-zero negatives), 400 expert-reviewed
images. Prints the time of the whole build and of its parts (queries, inputs read and checked).

Run: DATABASE_URL=... npm run bench:snapshot [-- --images 50000 --input-size 64]
(the schema it fills is dropped at the end; the inputs are written under a temporary folder)"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services" / "distiller"))

import numpy as np  # noqa: E402
import psycopg2  # noqa: E402

from distiller import snapshot as snap  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=50_000, help="images (two pseudo-labels each)")
    p.add_argument("--input-size", type=int, default=64)
    p.add_argument("--per-shard", type=int, default=200)
    args = p.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL (eval \"$(deploy/local/stack env)\")")
    schema = f"bench_snapshot_{uuid.uuid4().hex[:8]}"
    subprocess.run(["node", "bin/harvester.js", "migrate", "--database", url, "--schema", schema],
                   cwd=REPO, check=True, capture_output=True)
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    root = Path(tempfile.mkdtemp(prefix="fh-bench-snapshot-"))
    conn = psycopg2.connect(schema_url)
    conn.autocommit = True
    cur = conn.cursor()
    try:
        size, n = args.input_size, args.images
        version = snap.preprocessing_version(size, size)
        t = time.perf_counter()
        rng = np.random.default_rng(0)
        shards, inputs = io.StringIO(), io.StringIO()
        for start in range(0, n, args.per_shard):
            block = rng.integers(0, 256, (min(args.per_shard, n - start), size, size), dtype=np.uint8)
            content = block.tobytes()
            shard_id = hashlib.sha256(content).hexdigest()
            rel = f"{version}/{shard_id[:2]}/{shard_id}.u8"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
            shards.write(f"{shard_id}\t{rel}\t{version}\t{size}\t{size}\t{len(block)}\t{len(content)}\tbench\n")
            for k, img in enumerate(block):
                checksum = hashlib.sha256(img.tobytes()).hexdigest()
                inputs.write(f"2.25.{start + k}\t{version}\t{shard_id}\t{k * size * size}\t{size}\t{size}\t2048\t2048\t{checksum}\n")
        shards.seek(0)
        inputs.seek(0)
        cur.copy_expert("COPY training_shards (shard_id, path, preprocessing_version, height, width, images, bytes, "
                        "writer) FROM STDIN", shards)
        cur.copy_expert("COPY training_inputs (sop_instance_uid, preprocessing_version, shard_id, byte_offset, "
                        "height, width, source_rows, source_columns, checksum_sha256) FROM STDIN", inputs)
        cur.execute("""INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession,
                         modality, rows, columns, bits_allocated, bits_stored, pixel_representation,
                         photometric_interpretation, transfer_syntax_uid, uri, arrived_at, event_topic,
                         event_partition, event_offset, event_value)
                       SELECT '2.25.' || g, '1', '1', 'A' || g, 'CR', 2048, 2048, 16, 12, 0, 'MONOCHROME2',
                         '1.2.840.10008.1.2.1', 'file:///x', now(), 'dicom.arrived', 0, g, '\\x00'
                       FROM generate_series(0, %s - 1) g""", (n,))
        cur.execute("""INSERT INTO pseudo_labels (sop_instance_uid, class, model_version, accession, record_status,
                         target_method, aals_t, aals_a0, aals_eps, target, target_height, target_width,
                         teacher_score, target_max, target_mean, positive_fraction, report_status,
                         report_status_rank, report_observed_at, report_message_control_id, report_obr_index,
                         report_reported_at)
                       SELECT '2.25.' || g, c, 'teacher-bench', 'A' || g,
                         CASE WHEN (g + length(c)) %% 10 = 0 THEN 'positive' ELSE 'negative' END,
                         CASE WHEN (g + length(c)) %% 10 = 0 THEN 'aals' ELSE 'zero' END, 0.4, 4, 1e-6,
                         CASE WHEN (g + length(c)) %% 10 = 0 THEN decode(repeat(lpad(to_hex(g %% 256), 2, '0'), %s), 'hex')
                              ELSE decode(repeat('00', %s), 'hex') END,
                         %s, %s, 0.5, 0.5, 0.1, 0.1, 'F', 2, now(), 'm' || g, 1, now()
                       FROM generate_series(0, %s - 1) g, (VALUES ('rib'), ('clavicle')) AS k(c)""",
                    (64 * 64, 64 * 64, 64, 64, n))
        cur.execute("""INSERT INTO region_annotated_images (sop_instance_uid, split, source)
                       SELECT '2.25.' || g, CASE WHEN g %% 2 = 0 THEN 'region-train' ELSE 'region-test' END, 'bench'
                       FROM generate_series(%s, %s + 399) g""", (n, n))
        # the reviewed images reuse the first 400 inputs (their own rows, the same bytes)
        cur.execute("""INSERT INTO training_inputs (sop_instance_uid, preprocessing_version, shard_id, byte_offset,
                         height, width, source_rows, source_columns, checksum_sha256)
                       SELECT '2.25.' || (%s + gg.g), t.preprocessing_version, t.shard_id, t.byte_offset, t.height,
                         t.width, t.source_rows, t.source_columns, t.checksum_sha256
                       FROM generate_series(0, 399) AS gg(g)
                       JOIN training_inputs t ON t.sop_instance_uid = '2.25.' || gg.g""", (n,))
        cur.execute("ANALYZE")
        setup = time.perf_counter() - t

        t = time.perf_counter()
        s = snap.load_snapshot(schema_url, root.as_uri(), "teacher-bench", None, size)
        total = time.perf_counter() - t
        labels = sum(sum(v.values()) for v in s.summary["pseudoLabels"].values())
        mb = s.prepared.images.nbytes / 1048576
        print(json.dumps({
            "bench": "snapshot-build",
            "pseudoLabels": labels,
            "images": s.summary["images"],
            "reviewed": s.summary["regionTrain"].get("images", 0) + s.summary["regionTest"].get("images", 0),
            "inputSize": size,
            "inputMiB": round(mb, 1),
            "shards": s.summary["shards"]["count"],
            "seconds": round(total, 2),
            "labelsPerSecond": round(labels / total),
            "setupSeconds": round(setup, 1),
        }))
    finally:
        cur.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
