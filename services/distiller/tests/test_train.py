"""Training learns on a toy cohort, distillation uses the teacher's maps, and runs are repeatable."""

import json

import numpy as np
import pytest
import torch

from distiller.data import load_prepared
from distiller.model import load_checkpoint
from distiller.targets import params_for
from distiller.toy_cohort import write_toy_prepared
from distiller.train import TrainOptions, record_set, run_training


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_prepared(tmp_path_factory.mktemp("toy"), count=120, size=64, seed=3,
                              prevalence=0.5, contrast=0.6, splits=(0.5, 0.25))


@pytest.fixture(scope="module")
def teacher_run(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    info = run_training(TrainOptions(mode="supervised", prepared=str(toy), out=str(out), model="tiny",
                                     epochs=25, batch_size=10, lr=1e-2, seed=1, threads=1))
    return out, info


def test_the_teacher_learns_the_toy_findings(teacher_run):
    out, info = teacher_run
    hist = info["training"]["history"]
    assert hist[-1]["loss"] < hist[0]["loss"]
    assert info["metrics"]["rib"]["auroc"] > 0.8
    assert info["metrics"]["clavicle"]["auroc"] > 0.8
    assert json.loads((out / "metrics.json").read_text())["images"] == 30
    model, ckpt = load_checkpoint(out / "model.pt")
    assert ckpt["version"] == info["version"] and model(torch.zeros(1, 1, 64, 64)).shape == (1, 2, 16, 16)


def test_the_same_seed_gives_the_same_weights(toy, tmp_path):
    opts = dict(mode="supervised", prepared=str(toy), model="tiny", epochs=1, batch_size=8, seed=7, threads=1)
    a = run_training(TrainOptions(out=str(tmp_path / "a"), version="x", **opts))
    b = run_training(TrainOptions(out=str(tmp_path / "b"), version="x", **opts))
    assert a["training"]["history"][0]["loss"] == b["training"]["history"][0]["loss"]
    ma, _ = load_checkpoint(tmp_path / "a" / "model.pt")
    mb, _ = load_checkpoint(tmp_path / "b" / "model.pt")
    for pa, pb in zip(ma.parameters(), mb.parameters()):
        assert torch.equal(pa, pb)


def test_record_targets_follow_the_report(toy, teacher_run):
    prepared = load_prepared(toy)
    teacher, _ = load_checkpoint(teacher_run[0] / "model.pt")
    # Mark one record image uncertain for rib: that class is excluded from its loss.
    first = prepared.split("record")[0]
    first.record["rib"] = "uncertain"
    ts = record_set(prepared, 4, params_for("aals"), teacher, torch.device("cpu"), None)
    row = int(np.where(ts.indices == first.i)[0][0])
    assert ts.weights[row, 0] == 0 and ts.counts["recordExcluded_rib"] == 1
    for k, i in enumerate(ts.indices):
        e = prepared.entries[i]
        for c, cls in enumerate(("rib", "clavicle")):
            if e.record[cls] == "negative":
                assert not ts.targets[k, c].any()
            if e.record[cls] == "positive":
                assert ts.targets[k, c].max() > 0
    none = record_set(prepared, 4, params_for("none"), teacher, torch.device("cpu"), None)
    pos = [k for k, i in enumerate(none.indices) if prepared.entries[i].record["rib"] == "positive"]
    # AALS never lowers the teacher's map and raises its peaks.
    assert np.all(ts.targets[pos, 0] >= none.targets[pos, 0] - 1e-6)
    assert ts.targets[pos, 0].max(axis=(1, 2)).mean() > none.targets[pos, 0].max(axis=(1, 2)).mean()


def test_record_negatives_keeps_every_positive_and_caps_the_others(toy, teacher_run):
    prepared = load_prepared(toy)
    teacher, _ = load_checkpoint(teacher_run[0] / "model.pt")
    records = prepared.split("record")
    positives = {e.i for e in records if "positive" in e.record.values()}
    others = [e.i for e in records if "positive" not in e.record.values()]
    assert positives and len(others) > 2
    ts = record_set(prepared, 4, params_for("aals"), teacher, torch.device("cpu"), None, negatives=2)
    assert set(ts.indices.tolist()) == positives | set(others[:2])
    everything = record_set(prepared, 4, params_for("aals"), teacher, torch.device("cpu"), None)
    assert len(everything.indices) == len(records)


def test_distill_trains_a_student_from_the_teacher(toy, teacher_run, tmp_path):
    info = run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny",
                                     epochs=3, batch_size=10, lr=1e-2, seed=1, threads=1,
                                     teacher=str(teacher_run[0] / "model.pt"), method="aals",
                                     teacher_mode="fixed"))
    assert info["parentVersion"] == teacher_run[1]["version"]
    assert info["sharpen"]["method"] == "aals" and info["sharpen"]["t"] == 0.4
    assert info["counts"]["record"] == 30 and info["counts"]["regionTrain"] == 60


def test_distill_without_a_teacher_says_what_to_give(toy, tmp_path):
    with pytest.raises(ValueError, match="--teacher"):
        run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny", epochs=1,
                                  teacher_mode="fixed"))


def test_a_student_can_start_from_the_teachers_weights(toy, teacher_run, tmp_path):
    info = run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny",
                                     epochs=1, batch_size=10, lr=1e-9, seed=1, threads=1, jitter=False, shift=0,
                                     teacher=str(teacher_run[0] / "model.pt"), init_from_teacher=True))
    # With a vanishing learning rate the student keeps the teacher's ranking of the test images.
    assert info["metrics"]["rib"]["auroc"] == pytest.approx(teacher_run[1]["metrics"]["rib"]["auroc"], abs=0.05)
    with pytest.raises(ValueError, match="--init-from-teacher"):
        run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="cpu", epochs=1,
                                  teacher=str(teacher_run[0] / "model.pt"), init_from_teacher=True))
