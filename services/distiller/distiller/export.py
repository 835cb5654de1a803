"""ONNX export of a trained detector (docs/data-contracts.md: input `image` [N,1,H,W] in [0,1],
output `prob` [N,2,h,w] after sigmoid, dynamic batch), with metadata_props and a sha256 checksum,
plus a parity fixture (inputs and PyTorch outputs) that the TypeScript test
test/unit/distiller/onnx-parity.test.ts replays with onnxruntime-node."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from . import CLASSES
from .model import ProbabilityModel, load_checkpoint

DEFAULT_OPSET = 13  # loaded by every onnxruntime since 1.7 (the project uses 1.30)
PARITY_TOLERANCE = 1e-4  # max |ORT - PyTorch| on probabilities; float32 kernels differ in summation order


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _export(model: torch.nn.Module, dummy: torch.Tensor, path: Path, opset: int) -> None:
    kwargs = dict(input_names=["image"], output_names=["prob"], opset_version=opset,
                  dynamic_axes={"image": {0: "batch"}, "prob": {0: "batch"}}, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: same graph on torch 1.13 and 2.x
    with warnings.catch_warnings():
        # torch 1.13 warns about shape inference of prim::Constant for the Resize scales: harmless.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(model, (dummy,), str(path), **kwargs)


def parity_inputs(size: int, count: int, seed: int) -> np.ndarray:
    """Deterministic uint8 test images [count, size, size]: smooth gradients, stripes and noise,
    so the parity check sees activations across the whole range rather than a constant."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for k in range(count):
        base = 0.3 + 0.3 * np.sin(yy * (6 + 4 * k) + xx * 3) * np.cos(xx * 5)
        base += rng.normal(0, 0.08, (size, size))
        cx, cy = rng.random(2)
        base += 0.5 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 0.002)
        out.append(np.clip(base * 255, 0, 255).astype(np.uint8))
    return np.stack(out)


def export_onnx(checkpoint: str | Path, out: str | Path, opset: int = DEFAULT_OPSET,
                parity_dir: str | Path | None = None, parity_count: int = 3, seed: int = 0) -> dict:
    """Writes `out` (.onnx) and `out`.sha256; returns {path, sha256, bytes, metadata}."""
    checkpoint, out = Path(checkpoint), Path(out)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    if not 13 <= opset <= 17:
        raise ValueError(f"opset {opset} is outside 13..17 (what torch 1.13 exports and onnxruntime 1.30 loads)")
    detector, ckpt = load_checkpoint(checkpoint)
    info = ckpt.get("info", {})
    size = int(info.get("inputSize", 256))
    model = ProbabilityModel(detector).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    _export(model, torch.zeros(1, 1, size, size), out, opset)

    proto = onnx.load(str(out))
    metadata = {
        "version": str(ckpt.get("version", "")),
        "parentVersion": str(info.get("parentVersion") or ""),
        "inputSize": str(size),
        "inputName": "image",
        "outputName": "prob",
        "outputStride": str(detector.config.stride),
        "classes": json.dumps(list(CLASSES)),
        "architecture": json.dumps(detector.config.to_dict()),
        "recipe": json.dumps(info.get("recipe", {}), sort_keys=True),
        "sharpen": json.dumps(info.get("sharpen")),
        "metrics": json.dumps({c: {k: info.get("metrics", {}).get(c, {}).get(k) for k in ("auroc", "froc")}
                               for c in CLASSES}),
        "counts": json.dumps(info.get("counts", {})),
        "producer": f"fracture-harvester distiller (torch {torch.__version__})",
    }
    del proto.metadata_props[:]
    for k, v in metadata.items():
        proto.metadata_props.add(key=k, value=v)
    proto.producer_name = "fracture-harvester-distiller"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    digest = sha256_of(out)
    Path(str(out) + ".sha256").write_text(f"{digest}  {out.name}\n")
    result = {"path": str(out), "sha256": digest, "bytes": out.stat().st_size, "opset": opset,
              "metadata": metadata}
    if parity_dir is not None:
        result["parity"] = write_parity_fixture(model, out, Path(parity_dir), size, parity_count, seed)
    return result


@torch.no_grad()
def write_parity_fixture(model: torch.nn.Module, onnx_path: Path, parity_dir: Path, size: int,
                         count: int, seed: int) -> str:
    """inputs.u8 [n,S,S], outputs.f32 [n,2,h,w] (little-endian) and parity.json, whose `model`
    is the ONNX file relative to parity.json."""
    parity_dir.mkdir(parents=True, exist_ok=True)
    inputs = parity_inputs(size, count, seed)
    x = torch.from_numpy(inputs.astype(np.float32) / 255.0)[:, None]
    prob = model(x).numpy().astype("<f4")
    inputs.tofile(parity_dir / "inputs.u8")
    prob.tofile(parity_dir / "outputs.f32")
    spec = {
        "model": os.path.relpath(Path(onnx_path).resolve(), parity_dir.resolve()),
        "modelSha256": sha256_of(onnx_path),
        "count": count, "inputShape": [count, 1, size, size], "outputShape": list(prob.shape),
        "inputs": "inputs.u8", "inputScale": 1 / 255, "outputs": "outputs.f32", "tolerance": PARITY_TOLERANCE,
        "torch": torch.__version__,
    }
    (parity_dir / "parity.json").write_text(json.dumps(spec, indent=2) + "\n")
    return str(parity_dir / "parity.json")
