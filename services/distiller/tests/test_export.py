"""ONNX export honours docs/data-contracts.md: names, dynamic batch, sigmoid, metadata, checksum."""

import json

import numpy as np
import onnx
import torch

from distiller.export import export_onnx, sha256_of
from distiller.model import build_model, save_checkpoint


def _checkpoint(path, size=64):
    torch.manual_seed(0)
    model = build_model("tiny").eval()
    info = {"version": "v-test", "parentVersion": "v-parent", "inputSize": size, "recipe": {"seed": 0},
            "sharpen": {"method": "aals", "t": 0.4, "a0": 4.0}, "metrics": {"rib": {"auroc": 0.9, "froc": 0.5}},
            "counts": {"regionTrain": 3}}
    save_checkpoint(path, model, {"version": "v-test", "info": info})
    return model


def test_export_writes_the_contracted_graph_and_metadata(tmp_path):
    _checkpoint(tmp_path / "m.pt")
    res = export_onnx(tmp_path / "m.pt", tmp_path / "m.onnx", parity_dir=tmp_path / "parity")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.name == "image" and out.name == "prob"
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert in_dims == ["batch", 1, 64, 64] and out_dims == ["batch", 2, 16, 16]
    assert proto.graph.node[-1].op_type == "Sigmoid"
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["version"] == "v-test" and meta["parentVersion"] == "v-parent"
    assert meta["inputSize"] == "64" and meta["outputStride"] == "4"
    assert json.loads(meta["classes"]) == ["rib", "clavicle"]
    assert json.loads(meta["sharpen"])["method"] == "aals"
    assert res["sha256"] == sha256_of(tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx.sha256").read_text().split()[0] == res["sha256"]


def test_parity_fixture_holds_the_torch_probabilities(tmp_path):
    model = _checkpoint(tmp_path / "m.pt")
    export_onnx(tmp_path / "m.pt", tmp_path / "m.onnx", parity_dir=tmp_path / "parity", parity_count=2)
    spec = json.loads((tmp_path / "parity" / "parity.json").read_text())
    assert (tmp_path / "parity" / spec["model"]).resolve() == (tmp_path / "m.onnx").resolve()
    x = np.fromfile(tmp_path / "parity" / "inputs.u8", np.uint8).reshape(2, 1, 64, 64)
    y = np.fromfile(tmp_path / "parity" / "outputs.f32", "<f4").reshape(spec["outputShape"])
    with torch.no_grad():
        expect = torch.sigmoid(model(torch.from_numpy(x.astype(np.float32) / 255))).numpy()
    np.testing.assert_allclose(y, expect, atol=1e-6)
    assert 0 <= y.min() and y.max() <= 1
