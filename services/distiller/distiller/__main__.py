"""python -m distiller supervised|distill|evaluate|export ...  (run `... --help` per command)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_NO_TORCH = 3


def _torch_or_exit():
    try:
        import torch  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"distiller: {e.name} is not installed for {sys.executable}. On Debian/Ubuntu: "
              "apt-get install python3-torch python3-numpy python3-onnx (CPU), or install PyTorch "
              "from pytorch.org on a GPU machine.", file=sys.stderr)
        sys.exit(EXIT_NO_TORCH)


def _train_args(p: argparse.ArgumentParser, distill: bool) -> None:
    p.add_argument("--prepared", help="prepared cohort directory (harvester prepare); without it, the data "
                   "comes from --database and --store (the streaming system's training store)")
    p.add_argument("--store", help="training store root URL (TRAINING_STORE_URL), with --database")
    p.add_argument("--input-size", type=int, help="model input side of the stored inputs (default: the "
                   "teacher's input_size in model_versions)")
    if distill:
        p.add_argument("--watermark", help="ISO 8601 instant: pseudo-labels created up to it (the job's)")
    p.add_argument("--out", required=True, help="run directory: model.pt, metrics.json, train.json")
    p.add_argument("--model", default="cpu", choices=["cpu", "gpu", "small", "tiny"], help="network size (default cpu)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--pos-weight", type=float, default=1.0, help="BCE weight of positive pixels (default 1)")
    p.add_argument("--shift", type=int, default=2, help="max random translation in output cells (0 = none)")
    p.add_argument("--hflip", action="store_true", help="random horizontal flips (off: anatomy is sided)")
    p.add_argument("--no-jitter", action="store_true", help="no intensity augmentation")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    p.add_argument("--version", help="model version name (default derived from mode, seed, time)")
    p.add_argument("--log-every", type=int, default=0, help="progress line every N steps")
    p.add_argument("--steps", type=int, default=0, help="optimiser steps (of the last stage); 0 = --epochs "
                   "passes over its training set")
    p.add_argument("--sampling", help="batch composition: uniform, balanced (exact : record-negative : "
                   "record-positive = 1:1:2) or balanced:E:N:P (default: balanced; uniform when the targets "
                   "are stored pseudo-labels)")
    p.add_argument("--record-negatives", type=int, default=-1,
                   help="keep every record-positive image and at most N others (default all)")
    p.add_argument("--export", metavar="FILE.onnx", help="also export the trained model to ONNX")
    p.add_argument("--database", help="Postgres URL: register in model_versions"
                   + ("; with --teacher-version, read targets from pseudo_labels" if distill else ""))
    if distill:
        p.add_argument("--teacher", help="teacher checkpoint (model.pt) run offline on the cohort")
        p.add_argument("--teacher-version", help="pseudo_labels.model_version to read (with --database)")
        p.add_argument("--method", default="aals", choices=["none", "symmetric", "asymmetric", "aals"])
        p.add_argument("--a0", type=float, default=4.0, help="AALS maximum strength (default 4)")
        p.add_argument("--a", type=float, help="fixed strength of symmetric/asymmetric (default a0)")
        p.add_argument("--t", type=float, help="sharpening centre (default 0.5 symmetric, else 0.4)")
        p.add_argument("--eps", type=float, default=1e-6)
        p.add_argument("--record-limit", type=int, default=0, help="use at most N record images")
        p.add_argument("--teacher-mode", default="auto", choices=["auto", "ema", "fixed"],
                       help="ema: the teacher is the EMA of the student, its maps recomputed and sharpened per "
                       "batch (the paper's recipe); fixed: the targets are made once (--teacher CHECKPOINT, the "
                       "stage-1 model, or the stored pseudo-labels of --teacher-version); auto (default): fixed "
                       "for stored pseudo-labels or a --teacher to learn from, else ema (from stage 1, or from "
                       "--teacher's weights with --init-from-teacher)")
        p.add_argument("--ema-momentum", type=float, default=0.99, help="EMA teacher momentum (default 0.99)")
        p.add_argument("--pretrain-epochs", type=int, help="stage 1 (D_R + record negatives) epochs before "
                       "stage 2 (default: half of --epochs; 0 with --init-from-teacher or stored pseudo-labels)")
        p.add_argument("--pretrain-steps", type=int, default=0, help="stage-1 optimiser steps instead")
        p.add_argument("--init-from-teacher", action="store_true",
                       help="start from the teacher's weights instead of from scratch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m distiller", description=(
        "Trains and exports the fracture detector (PAPER.md): supervised teacher on region-labelled "
        "images, student distilled with AALS targets on record-labelled images."))
    sub = parser.add_subparsers(dest="command", required=True)
    _train_args(sub.add_parser("supervised", help="train the teacher on region-train boxes"), False)
    _train_args(sub.add_parser("pretrain", help="stage 1 of the recipe: region-train boxes + record negatives"),
                False)
    _train_args(sub.add_parser("distill", help="train a student on region boxes + record targets"), True)
    ev = sub.add_parser("evaluate", help="AUROC and FROC of a checkpoint on a prepared split")
    ev.add_argument("--checkpoint", required=True)
    ev.add_argument("--prepared", required=True)
    ev.add_argument("--split", default="region-test")
    ev.add_argument("--suppression-radius", type=int, default=2, help="in map cells (default 2)")
    ev.add_argument("--device", default="auto")
    ex = sub.add_parser("export", help="ONNX export (+ checksum, optional parity fixture and registration)")
    ex.add_argument("--checkpoint", required=True)
    ex.add_argument("--out", required=True, help="the .onnx file to write")
    ex.add_argument("--opset", type=int, default=13)
    ex.add_argument("--parity-dir", help="write inputs/outputs for the onnxruntime-node parity test here")
    ex.add_argument("--database", help="Postgres URL: register in model_versions")
    return parser


def _export_and_register(checkpoint: Path, onnx_out: str | None, database: str | None,
                         parity_dir: str | None = None, opset: int = 13) -> None:
    from .export import export_onnx
    from .model import load_checkpoint
    if onnx_out:
        res = export_onnx(checkpoint, onnx_out, opset=opset, parity_dir=parity_dir)
        print(json.dumps({"event": "exported", "path": res["path"], "sha256": res["sha256"],
                          "bytes": res["bytes"], "parity": res.get("parity")}), flush=True)
    if database:
        if not onnx_out:
            raise ValueError("registration needs an exported model: give --export FILE.onnx")
        from .pseudo_labels import DatabaseUnavailable
        from .register import register_model
        _, ckpt = load_checkpoint(checkpoint)
        try:
            r = register_model(database, ckpt["info"], res["sha256"], Path(res["path"]).resolve().as_uri())
            print(json.dumps({"event": "registered", **r}), flush=True)
        except DatabaseUnavailable as e:
            print(json.dumps({"event": "not_registered", "reason": str(e)}), flush=True)
            print(f"distiller: model not registered: {e}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # started by the distill-worker: end with it (a kill -9 of the worker must not leave us training)
    from .parent_watch import exit_with_parent_if_asked
    exit_with_parent_if_asked()
    _torch_or_exit()
    from .data import DataError
    from .pseudo_labels import DatabaseUnavailable
    try:
        if args.command in ("supervised", "pretrain", "distill"):
            from .train import TrainOptions, run_training
            opts = TrainOptions(
                mode=args.command, prepared=args.prepared, out=args.out, model=args.model, epochs=args.epochs,
                batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device, amp=not args.no_amp,
                pos_weight=args.pos_weight, shift=args.shift, hflip=args.hflip, jitter=not args.no_jitter,
                threads=args.threads, version=args.version, log_every=args.log_every,
                store=args.store, input_size=args.input_size, database=args.database, steps=args.steps,
                sampling=args.sampling, record_negatives=args.record_negatives)
            if args.command != "distill" and args.prepared:
                opts.database = None  # registration only (below); the data is the prepared folder
            if args.command == "distill":
                opts.teacher, opts.teacher_version, opts.method = args.teacher, args.teacher_version, args.method
                opts.a0, opts.a, opts.t, opts.eps = args.a0, args.a, args.t, args.eps
                opts.record_limit, opts.init_from_teacher = args.record_limit, args.init_from_teacher
                opts.teacher_mode, opts.ema_momentum = args.teacher_mode, args.ema_momentum
                opts.pretrain_epochs, opts.pretrain_steps = args.pretrain_epochs, args.pretrain_steps
                opts.watermark = args.watermark
                # with a prepared folder, --database alone only registers: targets need --teacher-version
                if args.prepared and not args.teacher_version:
                    opts.database = None
            run_training(opts)
            # from the database without --export, the database was only the data: nothing to register
            register = args.database if (args.export or args.prepared) else None
            _export_and_register(Path(args.out) / "model.pt", args.export, register)
        elif args.command == "evaluate":
            import torch
            from .data import load_prepared
            from .evaluate import evaluate_model, summary_line
            from .model import load_checkpoint
            from .train import pick_device
            if not Path(args.checkpoint).is_file():
                raise FileNotFoundError(f"checkpoint {args.checkpoint} does not exist")
            device = pick_device(args.device)
            model, _ = load_checkpoint(args.checkpoint, map_location=device)
            prepared = load_prepared(args.prepared)
            with torch.no_grad():
                m = evaluate_model(model.to(device), prepared, device, args.split, model.config.stride,
                                   args.suppression_radius)
            print(json.dumps(m), flush=True)
            print(summary_line(m), file=sys.stderr)
        elif args.command == "export":
            _export_and_register(Path(args.checkpoint), args.out, args.database, args.parity_dir, args.opset)
    except (DataError, DatabaseUnavailable, FileNotFoundError, ValueError) as e:
        print(f"distiller: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
