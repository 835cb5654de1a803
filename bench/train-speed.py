#!/usr/bin/python3
"""Training and inference throughput of the distiller's detector (images/s), on CPU and, when
present, on CUDA (mixed precision). Random inputs at the model's input size: the figure is the
network's speed, independent of any cohort. Run: npm run bench:train [-- --size 256 --steps 20]"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services", "distiller"))

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from distiller.model import build_model, count_parameters  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_speed(model_name, device, size, batch, steps, amp):
    torch.manual_seed(0)
    model = build_model(model_name).to(device).train()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    scaler = (torch.amp.GradScaler("cuda", enabled=amp) if hasattr(torch.amp, "GradScaler")
              else torch.cuda.amp.GradScaler(enabled=amp))
    x = torch.rand(batch, 1, size, size, device=device)
    y = (torch.rand(batch, 2, size // 4, size // 4, device=device) > 0.99).float()

    def step():
        with torch.autocast(device_type=device.type, enabled=amp):
            logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(3):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return batch * steps / (time.perf_counter() - t), count_parameters(model)


@torch.no_grad()
def infer_speed(model_name, device, size, batch, steps, amp):
    torch.manual_seed(0)
    model = build_model(model_name).to(device).eval()
    x = torch.rand(batch, 1, size, size, device=device)

    def step():
        with torch.autocast(device_type=device.type, enabled=amp):
            torch.sigmoid(model(x))

    for _ in range(3):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return batch * steps / (time.perf_counter() - t)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--cpu-only", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    runs = [("cpu", torch.device("cpu"), "cpu", a.batch, False)]
    if torch.cuda.is_available() and not a.cpu_only:
        dev = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
        runs += [("cuda", dev, "cpu", 64, True), ("cuda", dev, "gpu", 64, False), ("cuda", dev, "gpu", 64, True)]
    rows = []
    for where, dev, model_name, batch, amp in runs:
        steps = a.steps if dev.type == "cpu" else max(a.steps, 50)
        train, params = train_speed(model_name, dev, a.size, batch, steps, amp)
        infer = infer_speed(model_name, dev, a.size, batch * 2, steps, amp)
        row = {"device": where if dev.type == "cpu" else torch.cuda.get_device_name(0), "model": model_name,
               "parameters": params, "size": a.size, "batch": batch, "amp": amp,
               "trainImagesPerSecond": round(train, 1), "inferImagesPerSecond": round(infer, 1),
               "threads": torch.get_num_threads() if dev.type == "cpu" else None, "torch": torch.__version__}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| device | model | params | input | batch | AMP | train img/s | inference img/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        dev = r["device"] + (f" ({r['threads']} threads)" if r["threads"] else "")
        print(f"| {dev} | {r['model']} | {r['parameters']:,} | {r['size']}x{r['size']} | {r['batch']} | "
              f"{'fp16' if r['amp'] else 'fp32'} | {r['trainImagesPerSecond']} | {r['inferImagesPerSecond']} |")


if __name__ == "__main__":
    main()
