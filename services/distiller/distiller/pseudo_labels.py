"""Reads student targets that the pseudo-labeler stored in Postgres, for `distill --database`.

Assumed table (owned by the migrations; the distiller only reads it):
    pseudo_labels(
      sop_instance_uid text,      -- image
      class            text,      -- 'rib' | 'clavicle'
      model_version    text,      -- the teacher that produced the map
      target           bytea,     -- the AALS target, uint8 quantised (value / 255), row-major h*w
      target_height    integer,
      target_width     integer,
      ...)                        -- other columns (AALS parameters, stats) are not needed here
The targets are used as stored: the pseudo-labeler already applied the target method."""

from __future__ import annotations

import numpy as np

from . import CLASSES


class DatabaseUnavailable(Exception):
    """No driver, or the database cannot be reached; the message says what to do."""


def connect(url: str):
    try:
        import psycopg2  # Debian: apt-get install python3-psycopg2
    except ImportError as e:
        raise DatabaseUnavailable(
            "--database needs psycopg2: apt-get install python3-psycopg2 (or pip install psycopg2-binary)") from e
    try:
        return psycopg2.connect(url)
    except psycopg2.Error as e:
        raise DatabaseUnavailable(f"cannot connect to the database: {str(e).strip()}") from e


def dequantise(raw: bytes, height: int, width: int) -> np.ndarray:
    buf = np.frombuffer(bytes(raw), dtype=np.uint8)
    if buf.size != height * width:
        raise ValueError(f"target holds {buf.size} bytes, expected {height} x {width}")
    return buf.reshape(height, width).astype(np.float32) / 255.0


def load_pseudo_labels(url: str, model_version: str, sop_uids: list[str]) -> dict[tuple[str, str], np.ndarray]:
    """{(sop_instance_uid, class): target map float32 [h, w]} for the given teacher version."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT sop_instance_uid, class, target, target_height, target_width FROM pseudo_labels "
                "WHERE model_version = %s AND sop_instance_uid = ANY(%s) AND class = ANY(%s)",
                (model_version, list(sop_uids), list(CLASSES)))
            return {(sop, cls): dequantise(t, h, w) for sop, cls, t, h, w in cur.fetchall()}
    finally:
        conn.close()
