"""The detector: a compact fully convolutional encoder-decoder (FPN-like) with one probability map
per class at output stride 4. The training graph returns logits (for a numerically stable BCE);
`ProbabilityModel` adds the sigmoid for inference and ONNX export."""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from . import CLASSES


@dataclass(frozen=True)
class ModelConfig:
    name: str
    widths: tuple[int, ...]  # encoder channels at strides 2, 4, 8, 16
    decoder: int  # channels of the top-down path
    blocks: int = 1  # extra 3x3 conv blocks per encoder stage
    stride: int = 4  # output stride (fixed by the architecture: the top-down path ends at 1/4)

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS = {
    # Trains on 2 CPU cores in minutes at 256x256 (about 0.15 GMAC per image forward).
    "cpu": ModelConfig("cpu", (12, 24, 48, 64), 32, 1),
    # For a GPU: about 12x the compute of 'cpu'.
    "gpu": ModelConfig("gpu", (32, 64, 128, 192), 96, 2),
    # For the CPU-sized ablation (bench/recipe-ablation): about a quarter of 'cpu''s compute.
    "small": ModelConfig("small", (8, 16, 24, 32), 16, 1),
    # For tests and fixtures only.
    "tiny": ModelConfig("tiny", (4, 8, 8, 8), 8, 1),
}


def _conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Detector(nn.Module):
    """Input [N, 1, H, W] (H, W multiples of 16), output logits [N, 2, H/4, W/4]."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        stages = []
        cin = 1
        for w in config.widths:
            layers = [_conv_bn(cin, w, 2)] + [_conv_bn(w, w) for _ in range(config.blocks)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.ModuleList(stages)
        d = config.decoder
        # Laterals for strides 4, 8, 16 (the stride-2 features are too shallow to be worth fusing).
        self.laterals = nn.ModuleList([nn.Conv2d(w, d, 1) for w in config.widths[1:]])
        self.fuse = nn.Sequential(_conv_bn(d, d), _conv_bn(d, d))
        self.head = nn.Conv2d(d, len(CLASSES), 1)
        # Rare positives: start the maps near the background rate so early training is not spent
        # pulling every pixel down from 0.5 (the usual detector prior-bias initialisation).
        nn.init.constant_(self.head.bias, -4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        top = self.laterals[-1](feats[-1])
        for lateral, f in zip(reversed(self.laterals[:-1]), reversed(feats[1:-1])):
            top = lateral(f) + F.interpolate(top, scale_factor=2.0, mode="nearest")
        return self.head(self.fuse(top))


class ProbabilityModel(nn.Module):
    """The deployed graph: sigmoid of the detector's logits (docs/data-contracts.md, `prob`)."""

    def __init__(self, detector: Detector):
        super().__init__()
        self.detector = detector

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.detector(image))


def build_model(name: str) -> Detector:
    if name not in CONFIGS:
        raise ValueError(f"unknown model configuration {name!r}; expected one of {', '.join(CONFIGS)}")
    return Detector(CONFIGS[name])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_checkpoint(path, model: Detector, extra: dict) -> None:
    torch.save({"config": model.config.to_dict(), "state_dict": model.state_dict(), **extra}, path)


def load_checkpoint(path, map_location="cpu") -> tuple[Detector, dict]:
    kwargs = {}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = False  # our own checkpoints carry their training info (torch >= 2.6 default)
    ckpt = torch.load(path, map_location=map_location, **kwargs)
    cfg = dict(ckpt["config"])
    cfg["widths"] = tuple(cfg["widths"])
    model = Detector(ModelConfig(**cfg))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt
