"""model_versions registration and pseudo_labels reading against a real Postgres (DATABASE_URL,
e.g. from `deploy/local/stack env`), each test in its own schema. Skipped without DATABASE_URL."""

import json
import os
import uuid
from urllib.parse import quote

import numpy as np
import pytest

psycopg2 = pytest.importorskip("psycopg2")
URL = os.environ.get("DATABASE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="DATABASE_URL not set (deploy/local/stack env)")

from distiller.pseudo_labels import DatabaseUnavailable, load_pseudo_labels  # noqa: E402
from distiller.register import register_model  # noqa: E402


@pytest.fixture
def schema_url():
    name = f"distiller_test_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(URL)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in URL else "?"
    yield name, f"{URL}{sep}options={quote(f'-csearch_path={name}')}", conn
    conn.cursor().execute(f"DROP SCHEMA {name} CASCADE")
    conn.close()


INFO = {"version": "student-aals-1", "parentVersion": "teacher-1", "mode": "distill", "inputSize": 256,
        "stride": 4, "classes": ["rib", "clavicle"], "metrics": {"rib": {"auroc": 0.9}},
        "counts": {"regionTrain": 10, "record": 50}, "sharpen": {"method": "aals", "t": 0.4, "a0": 4.0},
        "recipe": {"seed": 0}}


def test_registers_into_the_columns_the_table_has(schema_url):
    name, url, conn = schema_url
    conn.cursor().execute(f"CREATE TABLE {name}.model_versions (version text PRIMARY KEY, parent_version text, "
                          "checksum_sha256 text, metrics jsonb, training_counts jsonb, aals_params jsonb, "
                          "classes text[], input_size integer, created_at timestamptz DEFAULT now())")
    r = register_model(url, INFO, "ab" * 32, "file:///m.onnx")
    assert r["registered"] and "artefact_uri" not in r["columns"]
    cur = conn.cursor()
    cur.execute(f"SELECT parent_version, checksum_sha256, metrics, training_counts, aals_params, classes, input_size "
                f"FROM {name}.model_versions WHERE version = 'student-aals-1'")
    parent, checksum, metrics, counts, aals, classes, size = cur.fetchone()
    assert parent == "teacher-1" and checksum == "ab" * 32 and size == 256
    assert metrics["rib"]["auroc"] == 0.9 and counts["record"] == 50 and aals["t"] == 0.4
    assert classes == ["rib", "clavicle"]
    assert register_model(url, INFO, "ab" * 32, "file:///m.onnx")["registered"] is False  # idempotent


def test_registers_how_the_model_was_trained_in_the_recipe_columns(schema_url):
    name, url, conn = schema_url
    conn.cursor().execute(f"CREATE TABLE {name}.model_versions (version text PRIMARY KEY, teacher_mode text, "
                          "ema_momentum double precision, sharpen_method text, sharpen_a0 double precision, "
                          "sharpen_t double precision, pretrain_epochs integer, batch_sampling text)")
    info = {**INFO, "trainingRecipe": {"teacherMode": "ema", "emaMomentum": 0.99, "pretrainEpochs": 5,
                                       "sampling": "balanced 1:1:2"}}
    register_model(url, info, "ab" * 32, "file:///m.onnx")
    register_model(url, {**INFO, "version": "teacher-2", "mode": "supervised", "sharpen": None}, "cd", "file:///t")
    cur = conn.cursor()
    cur.execute(f"SELECT version, teacher_mode, ema_momentum, sharpen_method, sharpen_a0, sharpen_t, pretrain_epochs, "
                f"batch_sampling FROM {name}.model_versions ORDER BY version")
    assert cur.fetchall() == [("student-aals-1", "ema", 0.99, "aals", 4.0, 0.4, 5, "balanced 1:1:2"),
                              ("teacher-2", None, None, None, None, None, None, None)]


def test_a_missing_table_is_reported_clearly(schema_url):
    _, url, _ = schema_url
    with pytest.raises(DatabaseUnavailable, match="no model_versions table"):
        register_model(url, INFO, "00", "file:///m.onnx")


def test_reads_stored_targets_for_a_teacher_version(schema_url):
    name, url, conn = schema_url
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {name}.pseudo_labels (sop_instance_uid text, class text, model_version text, "
                "target bytea, target_height integer, target_width integer, aals_params jsonb, "
                "PRIMARY KEY (sop_instance_uid, class, model_version))")
    t = np.arange(6, dtype=np.uint8).reshape(2, 3) * 51
    for sop, cls, ver in [("1.2.3", "rib", "teacher-1"), ("1.2.3", "clavicle", "teacher-2"), ("9.9", "rib", "teacher-1")]:
        cur.execute(f"INSERT INTO {name}.pseudo_labels VALUES (%s, %s, %s, %s, 2, 3, %s)",
                    (sop, cls, ver, psycopg2.Binary(t.tobytes()), json.dumps({"method": "aals"})))
    got = load_pseudo_labels(url, "teacher-1", ["1.2.3"])
    assert list(got) == [("1.2.3", "rib")]
    np.testing.assert_allclose(got[("1.2.3", "rib")], t / 255.0, atol=1e-7)
