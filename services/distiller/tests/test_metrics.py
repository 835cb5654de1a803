"""The shared hand-computed cases (test/fixtures/metrics-cases.json), so that the distiller and the
TypeScript metrics agree by construction."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from distiller.metrics import auroc, detections, froc

FIXTURE = Path(__file__).resolve().parents[3] / "test" / "fixtures" / "metrics-cases.json"
CASES = json.loads(FIXTURE.read_text())


def _map(m):
    return np.asarray(m["values"], dtype=np.float64).reshape(m["height"], m["width"])


def _same(actual, expected):
    if expected is None:
        return math.isnan(actual)
    return actual == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("case", CASES["auroc"], ids=lambda c: c["name"])
def test_auroc(case):
    assert _same(auroc(case["scores"], case["labels"]), case["expected"])


@pytest.mark.parametrize("case", CASES["detections"], ids=lambda c: c["name"])
def test_detections(case):
    got = [{"x": x, "y": y, "score": s} for s, x, y in detections(_map(case["map"]), case["suppressionRadius"])]
    assert got == case["expected"]


@pytest.mark.parametrize("case", CASES["froc"], ids=lambda c: c["name"])
def test_froc(case):
    r = froc([_map(im["map"]) for im in case["images"]], [im["boxes"] for im in case["images"]],
             case["suppressionRadius"], case["rates"])
    exp = case["expected"]
    assert r.total_boxes == exp["totalBoxes"] and r.images == exp["images"]
    assert len(r.curve) == len(exp["curve"])
    for got, want in zip(r.curve, exp["curve"]):
        for key in ("threshold", "truePositives", "falsePositives", "fpPerImage"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), key
        assert _same(got["sensitivity"], want["sensitivity"])
    assert all(_same(a, b) for a, b in zip(r.sensitivities, exp["sensitivities"]))
    assert _same(r.score, exp["score"])


def test_froc_of_the_three_image_case_as_computed_by_hand():
    case = next(c for c in CASES["froc"] if c["name"] == "three images, one without boxes")
    r = froc([_map(im["map"]) for im in case["images"]], [im["boxes"] for im in case["images"]], 1)
    assert [(p["truePositives"], p["falsePositives"]) for p in r.curve] == [
        (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 4)]
    assert r.sensitivities == [0.5, 0.5, 0.5, 0.5, 1, 1, 1]
    assert r.score == pytest.approx(5 / 7)


def test_fixture_is_not_empty():
    assert len(CASES["auroc"]) >= 5 and len(CASES["froc"]) >= 5
