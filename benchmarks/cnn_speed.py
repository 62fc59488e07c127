"""Seconds per epoch and full fits of CNN candidates against today's default (issue 23, "a CNN in 90 s").

``python -m benchmarks.cnn_speed epochs``: one epoch on the 60,000 training images (and the
validation pass over the 10,000 test images) per candidate, alternating with the reference in one
process, so the ratio is fair on a shared machine. ``python -m benchmarks.cnn_speed full NAME...``:
the real ``training.train._fit`` of each named candidate on ``--datasets``, with its test accuracy.
Data: ``python -m pipeline fetch --data-dir DIR`` gives ``DIR/mnist.npz`` and ``DIR/fashion-mnist.npz``.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from training.config import make_config

log = logging.getLogger(__name__)

#: name -> overrides of the default profile; "ref" is the profile as it was before issue 23.
REFERENCE = dict(widths=(32, 64), batch_size=128, epochs=8, learning_rate=3e-3)
CANDIDATES = {
    "ref": {},
    "b256": dict(batch_size=256),
    "w24-48": dict(widths=(24, 48), batch_size=256),
    "w32-48": dict(widths=(32, 48), batch_size=256),
    "w16-32": dict(widths=(16, 32), batch_size=256),
    "w16-32-b512": dict(widths=(16, 32), batch_size=512),
    "w16-32-b128": dict(widths=(16, 32), batch_size=128),
    "w16-32-nobn": dict(widths=(16, 32), batch_size=256, batch_norm=False),
    "w16-32-e64": dict(widths=(16, 32), batch_size=256, embedding_dim=64),
    "pf16-32": dict(widths=(16, 32), batch_size=128, pool_first=True),
    "pf16-48": dict(widths=(16, 48), batch_size=128, pool_first=True),
    "pf24-48": dict(widths=(24, 48), batch_size=128, pool_first=True),
    "pf32-64": dict(widths=(32, 64), batch_size=128, pool_first=True),
    "pf16-48-b256": dict(widths=(16, 48), batch_size=256, pool_first=True),
}


def candidate(name: str, dataset: str, **extra):
    """The TrainConfig of candidate ``name`` (``name:epochs`` or ``name:epochs:lr`` sets those too)."""
    base, *rest = name.split(":")
    values = {**REFERENCE, **CANDIDATES[base], **extra}
    if rest:
        values["epochs"] = int(rest[0])
    if len(rest) > 1:
        values["learning_rate"] = float(rest[1])
    return make_config(dataset, "default", **values)


def load(data_dir: Path, dataset: str) -> dict:
    with np.load(data_dir / f"{dataset}.npz") as z:
        return {k: z[k] for k in z.files}


def epochs(args) -> list[dict]:
    """Seconds per 60,000-image epoch of each candidate, from ``--slice`` images at a time, the
    reference first in every round; wall and CPU seconds (CPU time suffers less from a busy machine)."""
    import keras

    from training.model import build_cnn
    from training.train import _seed_everything, to_input

    arrays = load(args.data_dir, "mnist")
    xtr, xte = to_input(arrays["x_train"]), to_input(arrays["x_test"])
    ytr, yte = arrays["y_train"], arrays["y_test"]
    _seed_everything(0)
    names = ["ref"] + [n for n in args.names if n != "ref"]
    models = {}
    for n in names:
        cfg = candidate(n, "mnist")
        m = build_cnn(cfg, input_shape=xtr.shape[1:])
        m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fit(xtr[:2048], ytr[:2048], batch_size=cfg.batch_size, epochs=1, verbose=0)  # trace once
        models[n] = (m, cfg)
    scale = len(xtr) / args.slice
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        lo = (r * args.slice) % (len(xtr) - args.slice)
        for n in names:
            m, cfg = models[n]
            t, c = time.perf_counter(), time.process_time()
            m.fit(xtr[lo:lo + args.slice], ytr[lo:lo + args.slice], batch_size=cfg.batch_size, epochs=1, verbose=0)
            wall[n].append((time.perf_counter() - t) * scale)
            cpu[n].append((time.process_time() - c) * scale)
            log.info("round %d %s: %.1f s wall, %.1f s cpu per epoch", r + 1, n, wall[n][-1], cpu[n][-1])
    rows = []
    for n in names:
        w = float(np.median([s / ref for s, ref in zip(wall[n], wall["ref"])]))
        c = float(np.median([s / ref for s, ref in zip(cpu[n], cpu["ref"])]))
        rows.append({"name": n, "wall_per_epoch": wall[n], "cpu_per_epoch": cpu[n], "wall_ratio": w, "cpu_ratio": c,
                     "params": int(models[n][0].count_params())})
        print(f"{n:14s} wall s/epoch median {np.median(wall[n]):6.1f} ratio {w:.2f} | cpu s/epoch median "
              f"{np.median(cpu[n]):6.1f} ratio {c:.2f} | params {rows[-1]['params']}", flush=True)
    for vb in (128, 1000):  # the per-epoch validation pass over the 10,000 test images
        m = models["ref"][0]
        m.evaluate(xte[:2000], yte[:2000], batch_size=vb, verbose=0)
        t, c = time.perf_counter(), time.process_time()
        m.evaluate(xte, yte, batch_size=vb, verbose=0)
        print(f"validation pass (ref) batch {vb}: {time.perf_counter() - t:.1f} s wall, "
              f"{time.process_time() - c:.1f} s cpu", flush=True)
    return rows


def full(args) -> list[dict]:
    """The real fit (training.train._fit) of each named candidate on each dataset."""
    from training.train import _fit

    rows = []
    for dataset in args.datasets:
        arrays = load(args.data_dir, dataset)
        for n in args.names:
            cfg = candidate(n, dataset)
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                _fit(cfg, arrays, Path(tmp), progress=False)
                wall = time.perf_counter() - t
                metrics = json.loads((Path(tmp) / "metrics.json").read_text())
                history = json.loads((Path(tmp) / "history.json").read_text())
            rows.append({"name": n, "dataset": dataset, "epochs": cfg.epochs, "fit_seconds": metrics["train_seconds"],
                         "wall_seconds": wall, "test_accuracy": metrics["test_accuracy"],
                         "epoch_seconds": history["seconds"], "val_accuracy": history["val_accuracy"]})
            print(f"{dataset:14s} {n:18s} epochs {cfg.epochs} fit {metrics['train_seconds']:6.1f} s "
                  f"(wall {wall:6.1f}) acc {metrics['test_accuracy']:.4f} "
                  f"epochs {' '.join(f'{s:.0f}' for s in history['seconds'])}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cnn_speed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("epochs", "full"))
    p.add_argument("names", nargs="*", default=list(CANDIDATES), help="candidates (name or name:epochs[:lr])")
    p.add_argument("--data-dir", type=Path, default=Path("/tmp/cnnspeed/data"))
    p.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--slice", type=int, default=7680, help="training images per timed fit (epochs mode)")
    p.add_argument("--out", type=Path, help="append the rows as JSON lines here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = epochs(args) if args.mode == "epochs" else full(args)
    if args.out:
        with args.out.open("a") as f:
            for row in rows:
                f.write(json.dumps({"mode": args.mode, **row}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
