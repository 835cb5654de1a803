"""A job's snapshot from the database and the training store (distiller/snapshot.py), on a real
Postgres (DATABASE_URL) with the project's migrations applied by `harvester migrate` into a schema
of its own. Skipped without DATABASE_URL or Node.js."""

import hashlib
import os
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

psycopg2 = pytest.importorskip("psycopg2")
URL = os.environ.get("DATABASE_URL")
REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not URL or not shutil.which("node"),
                                reason="DATABASE_URL not set (deploy/local/stack env) or no node")

from distiller.data import DataError  # noqa: E402
from distiller.snapshot import load_snapshot, preprocessing_version  # noqa: E402

SIZE = 32
VERSION = preprocessing_version(SIZE, SIZE)
T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def db():
    yield from _migrated_schema()


@pytest.fixture
def own_db():
    """A schema of the test's own (its training-store shards live in its own tmp_path)."""
    yield from _migrated_schema()


def _migrated_schema():
    name = f"snapshot_test_{uuid.uuid4().hex[:8]}"
    subprocess.run(["node", "bin/harvester.js", "migrate", "--database", URL, "--schema", name],
                   cwd=REPO, check=True, capture_output=True)
    sep = "&" if "?" in URL else "?"
    url = f"{URL}{sep}options={quote(f'-csearch_path={name}')}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    yield url, conn
    conn.cursor().execute(f"DROP SCHEMA {name} CASCADE")
    conn.close()


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE), dtype=np.uint8)


def write_shard(root: Path, conn, sops_and_pixels, rows=64, columns=128):
    """A shard as the TypeScript writer lays it out, indexed in training_shards / training_inputs."""
    content = b"".join(p.tobytes() for _, p in sops_and_pixels)
    shard_id = hashlib.sha256(content).hexdigest()
    rel = f"{VERSION}/{shard_id[:2]}/{shard_id}.u8"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(content)
    cur = conn.cursor()
    cur.execute("INSERT INTO training_shards (shard_id, path, preprocessing_version, height, width, images, bytes, "
                "writer) VALUES (%s, %s, %s, %s, %s, %s, %s, 'test')",
                (shard_id, rel, VERSION, SIZE, SIZE, len(sops_and_pixels), len(content)))
    for n, (sop, pixels) in enumerate(sops_and_pixels):
        cur.execute("INSERT INTO training_inputs (sop_instance_uid, preprocessing_version, shard_id, byte_offset, "
                    "height, width, source_rows, source_columns, checksum_sha256) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (sop, VERSION, shard_id, n * SIZE * SIZE, SIZE, SIZE, rows, columns,
                     hashlib.sha256(pixels.tobytes()).hexdigest()))
    return rel


def add_image_row(conn, sop):
    conn.cursor().execute(
        "INSERT INTO images (sop_instance_uid, study_instance_uid, series_instance_uid, accession, modality, rows, "
        "columns, bits_allocated, bits_stored, pixel_representation, photometric_interpretation, "
        "transfer_syntax_uid, uri, arrived_at, event_topic, event_partition, event_offset, event_value) "
        "VALUES (%s, '1', '1', %s, 'CR', 64, 128, 16, 12, 0, 'MONOCHROME2', '1.2.840.10008.1.2.1', 'file:///x', "
        "now(), 'dicom.arrived', 0, 0, '\\x00')", (sop, f"A-{sop}"))


def add_label(conn, sop, cls, status, method, target, created):
    conn.cursor().execute(
        "INSERT INTO pseudo_labels (sop_instance_uid, class, model_version, accession, record_status, target_method, "
        "aals_t, aals_a0, aals_eps, target, target_height, target_width, teacher_score, target_max, target_mean, "
        "positive_fraction, report_status, report_status_rank, report_observed_at, report_message_control_id, "
        "report_obr_index, report_reported_at, created_at) VALUES (%s, %s, 'teacher-1', %s, %s, %s, 0.4, 4, 1e-6, "
        "%s, 8, 8, 0.5, 0.5, 0.1, 0.1, 'F', 2, now(), 'm', 1, now(), %s)",
        (sop, cls, f"A-{sop}", status, method, psycopg2.Binary(target.tobytes()), created))


def test_takes_reviewed_images_and_the_teacher_labels_up_to_the_watermark(db, tmp_path):
    url, conn = db
    pix = {s: image(k) for k, s in enumerate(["r-train", "r-free", "rec-1", "rec-2", "late"])}
    write_shard(tmp_path, conn, [("r-train", pix["r-train"]), ("r-free", pix["r-free"])])
    write_shard(tmp_path, conn, [("rec-1", pix["rec-1"]), ("rec-2", pix["rec-2"]), ("late", pix["late"])])
    cur = conn.cursor()
    cur.execute("INSERT INTO region_annotated_images (sop_instance_uid, split, source) VALUES "
                "('r-train', 'region-train', 't'), ('r-free', 'region-test', 't'), ('r-noinput', 'region-test', 't')")
    cur.execute("INSERT INTO region_annotations (sop_instance_uid, class, x0, y0, x1, y1, split, source) "
                "VALUES ('r-train', 'rib', 16, 8, 48, 24, 'region-train', 't')")
    target = np.arange(64, dtype=np.uint8)
    zero = np.zeros(64, dtype=np.uint8)
    for sop in ["r-train", "rec-1", "rec-2", "late", "no-input"]:
        add_image_row(conn, sop)
    add_label(conn, "rec-1", "rib", "positive", "aals", target, T0)
    add_label(conn, "rec-1", "clavicle", "negative", "zero", zero, T0)
    add_label(conn, "rec-2", "rib", "negative", "zero", zero, T0)
    add_label(conn, "r-train", "rib", "positive", "aals", target, T0)  # reviewed: its true mask wins
    add_label(conn, "late", "rib", "positive", "aals", target, T0 + timedelta(hours=2))  # after the watermark
    add_label(conn, "no-input", "rib", "negative", "zero", zero, T0)  # no stored input

    snap = load_snapshot(url, tmp_path.as_uri(), "teacher-1", T0 + timedelta(hours=1), SIZE)
    by = {e.sop_instance_uid: e for e in snap.prepared.entries}
    assert sorted(by) == ["r-free", "r-train", "rec-1", "rec-2"]
    assert by["r-train"].split == "region-train" and by["r-free"].split == "region-test"
    # the box is scaled from the stored 128 x 64 image to the 32 x 32 input
    assert by["r-train"].boxes == [("rib", (4.0, 4.0, 12.0, 12.0))]
    assert by["r-free"].boxes == []
    assert by["rec-1"].record == {"rib": "positive", "clavicle": "negative"}
    assert by["rec-2"].record == {"rib": "negative"}
    for sop, e in by.items():
        assert np.array_equal(snap.prepared.images[e.i], pix[sop])
    assert set(snap.pseudo) == {("rec-1", "rib")}
    assert np.allclose(snap.pseudo[("rec-1", "rib")].ravel(), target / 255.0)
    s = snap.summary
    assert s["teacherVersion"] == "teacher-1" and s["preprocessingVersion"] == VERSION
    assert s["regionTrain"] == {"images": 1, "positive_rib": 1}
    assert s["regionTest"] == {"images": 1, "fractureFree": 1}
    assert s["regionWithoutInput"] == 1
    assert s["pseudoLabels"] == {"rib": {"positive": 1, "negative": 1}, "clavicle": {"negative": 1}}
    assert s["pseudoLabelsWithoutInput"] == 1
    assert s["shards"]["count"] == 2 and s["images"] == 4
    again = load_snapshot(url, tmp_path.as_uri(), "teacher-1", T0 + timedelta(hours=1), SIZE)
    assert again.summary["digest"] == s["digest"]
    later = load_snapshot(url, tmp_path.as_uri(), "teacher-1", T0 + timedelta(hours=3), SIZE)
    assert later.summary["digest"] != s["digest"] and ("late", "rib") in later.pseudo

    # D_R only (supervised): no pseudo-labels
    dr = load_snapshot(url, tmp_path.as_uri(), None, None, SIZE, with_pseudo_labels=False)
    assert sorted(e.split for e in dr.prepared.entries) == ["region-test", "region-train"]

    # a damaged shard is refused, not trained on
    shard = next(p for p in tmp_path.rglob("*.u8") if p.stat().st_size == 2 * SIZE * SIZE)
    data = bytearray(shard.read_bytes())
    data[5] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(DataError, match="fails its checksum"):
        load_snapshot(url, tmp_path.as_uri(), "teacher-1", T0 + timedelta(hours=1), SIZE)


def test_both_teacher_modes_train_on_what_the_stream_harvested(own_db, tmp_path):
    """The stored data serves both modes: fixed learns the stored targets; ema needs only the inputs
    and the record labels (the stored maps are recomputed by the averaged student)."""
    from distiller.train import TrainOptions, run_training
    url, conn = own_db
    sops = [f"ema-{k}" for k in range(6)]
    pix = {s: image(100 + k) for k, s in enumerate(sops)}
    write_shard(tmp_path, conn, [(s, pix[s]) for s in sops])
    cur = conn.cursor()
    cur.execute("INSERT INTO region_annotated_images (sop_instance_uid, split, source) VALUES "
                "('ema-0', 'region-train', 't'), ('ema-1', 'region-train', 't')")
    cur.execute("INSERT INTO region_annotations (sop_instance_uid, class, x0, y0, x1, y1, split, source) "
                "VALUES ('ema-0', 'rib', 16, 8, 48, 24, 'region-train', 't')")
    target = np.full(64, 200, dtype=np.uint8)
    zero = np.zeros(64, dtype=np.uint8)
    for sop in sops:
        add_image_row(conn, sop)
    for sop in ("ema-2", "ema-3"):
        add_label(conn, sop, "rib", "positive", "aals", target, T0)
        add_label(conn, sop, "clavicle", "negative", "zero", zero, T0)
    for sop in ("ema-4", "ema-5"):
        add_label(conn, sop, "rib", "negative", "zero", zero, T0)
    common = dict(mode="distill", prepared=None, database=url, store=tmp_path.as_uri(), teacher_version="teacher-1",
                  watermark=(T0 + timedelta(hours=1)).isoformat(), input_size=SIZE, model="tiny", epochs=2,
                  batch_size=4, threads=1)
    fixed = run_training(TrainOptions(out=str(tmp_path / "fixed"), **common))
    assert fixed["trainingRecipe"] == {"teacherMode": "fixed", "emaMomentum": None, "pretrainEpochs": 0,
                                       "sampling": "uniform"}  # a streaming job, as before the recipe
    ema = run_training(TrainOptions(out=str(tmp_path / "ema"), teacher_mode="ema", pretrain_epochs=1, **common))
    assert ema["trainingRecipe"]["teacherMode"] == "ema" and ema["trainingRecipe"]["pretrainEpochs"] == 1
    assert ema["counts"]["recordPositive_rib"] >= 2 and ema["counts"]["recordNegative_rib"] >= 2
    assert len(ema["training"]["stage1"]["history"]) == 1 and (tmp_path / "ema" / "ema-teacher.pt").is_file()
