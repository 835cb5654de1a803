"""Registers a trained model in Postgres `model_versions` (owned by the migrations).

Columns the distiller fills when the table has them (it reads information_schema first and
writes only the columns that exist; `version` is required):
    version          text     the model's version (unique; a second registration is a no-op)
    parent_version   text     the teacher it was distilled from, or null
    checksum_sha256  text     sha256 of the ONNX file (also accepted: checksum, sha256)
    artefact_uri     text     where the ONNX file is (also accepted: artifact_uri, uri)
    metrics          jsonb    evaluate.py's result on the held-out region-labelled set
    training_counts  jsonb    images used, per split/label (also accepted: counts)
    aals_params      jsonb    target method, t, a0, a, eps (also accepted: sharpen_params)
    recipe           jsonb    the training options (command line, seed, data)
    input_size       integer  model input side in pixels
    output_stride    integer  input pixels per map cell
    classes          text[] or jsonb  ['rib', 'clavicle']
    mode             text     supervised | distill (also accepted: kind, role)
    training_snapshot jsonb   the data a model trained on (snapshot.py's summary), when from the database
    teacher_mode     text     ema | fixed (recipe.py; null for supervised and pretrain models)
    ema_momentum     double   the EMA teacher's momentum (ema only)
    sharpen_method   text     none | symmetric | asymmetric | aals
    sharpen_a0       double   AALS maximum strength
    sharpen_t        double   sharpening centre
    pretrain_epochs  integer  stage-1 epochs (D_R + record negatives)
    batch_sampling   text     uniform | balanced E:N:P
json/jsonb columns get JSON; text columns get JSON text for structured values."""

from __future__ import annotations

import json

from .pseudo_labels import DatabaseUnavailable, connect

ALIASES = {
    "version": ("version",),
    "parent_version": ("parent_version",),
    "checksum": ("checksum_sha256", "checksum", "sha256"),
    "artefact_uri": ("artefact_uri", "artifact_uri", "uri"),
    "metrics": ("metrics",),
    "counts": ("training_counts", "counts"),
    "sharpen": ("aals_params", "sharpen_params"),
    "recipe": ("recipe",),
    "input_size": ("input_size",),
    "output_stride": ("output_stride",),
    "classes": ("classes",),
    "mode": ("mode", "kind", "role"),
    "snapshot": ("training_snapshot",),
    "teacher_mode": ("teacher_mode",),
    "ema_momentum": ("ema_momentum",),
    "sharpen_method": ("sharpen_method",),
    "sharpen_a0": ("sharpen_a0",),
    "sharpen_t": ("sharpen_t",),
    "pretrain_epochs": ("pretrain_epochs",),
    "sampling": ("batch_sampling",),
}


def registration_values(info: dict, checksum: str, artefact_uri: str) -> dict:
    plan = info.get("trainingRecipe") or {}
    sharpen = info.get("sharpen") or {}
    return {
        "version": info["version"], "parent_version": info.get("parentVersion"), "checksum": checksum,
        "artefact_uri": artefact_uri, "metrics": info.get("metrics"), "counts": info.get("counts"),
        "sharpen": info.get("sharpen"), "recipe": info.get("recipe"), "input_size": info.get("inputSize"),
        "output_stride": info.get("stride"), "classes": info.get("classes"), "mode": info.get("mode"),
        "snapshot": info.get("snapshot"),
        "teacher_mode": plan.get("teacherMode"), "ema_momentum": plan.get("emaMomentum"),
        "sharpen_method": sharpen.get("method"), "sharpen_a0": sharpen.get("a0"), "sharpen_t": sharpen.get("t"),
        "pretrain_epochs": plan.get("pretrainEpochs"), "sampling": plan.get("sampling"),
    }


def _adapt(value, data_type: str):
    if value is None:
        return None
    if data_type in ("json", "jsonb"):
        return json.dumps(value)
    if data_type == "ARRAY":
        return list(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def register_model(url: str, info: dict, checksum: str, artefact_uri: str) -> dict:
    """Inserts one row; returns {"registered": bool, "columns": [...]}. Raises DatabaseUnavailable
    with a clear message when the driver, the server or the table is missing."""
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'model_versions' AND table_schema = ANY(current_schemas(false))")
            types = dict(cur.fetchall())
            if not types:
                raise DatabaseUnavailable("the database has no model_versions table: apply the migrations first")
            if "version" not in types:
                raise DatabaseUnavailable("model_versions has no 'version' column; see distiller/register.py")
            values = registration_values(info, checksum, artefact_uri)
            cols, params = [], []
            for field, names in ALIASES.items():
                col = next((n for n in names if n in types), None)
                if col is not None and values[field] is not None:
                    cols.append(col)
                    params.append(_adapt(values[field], types[col]))
            placeholders = ", ".join(["%s"] * len(cols))
            cur.execute(f"INSERT INTO model_versions ({', '.join(cols)}) VALUES ({placeholders}) "
                        "ON CONFLICT DO NOTHING", params)
            return {"registered": cur.rowcount == 1, "columns": cols}
    finally:
        conn.close()
