"""Train a small Keras model of your own and save it, to see it beside the model ladder.

    .venv/bin/python examples/train_my_model.py --dataset fashion-mnist --out my_model.keras
    ./run.sh --model my_model.keras --dataset fashion-mnist

Any model works the same way if it takes 28x28 grayscale images and gives one score per
class (probabilities or logits); its embedding is the input of its final Dense layer
unless you name a layer with ``--embedding-layer``. This one rescales its own inputs (a
``Rescaling`` layer), so the explorer feeds it raw 0-255 pixels, and ends in logits, so
the explorer applies the softmax: both are found out and said in the run's log.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="fashion-mnist", choices=("mnist", "fashion-mnist"))
    p.add_argument("--out", type=Path, default=Path("my_model.keras"))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--data-dir", type=Path, default=ROOT / "cache" / "data")
    args = p.parse_args()

    import keras
    from keras import layers

    from training import datasets

    arrays = datasets.load(args.dataset, args.data_dir)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Rescaling(1 / 255.0),
        layers.Conv2D(16, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu", name="features"),
        layers.Dense(10, name="logits"),
    ], name="my_model")
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(arrays["x_train"][..., None], arrays["y_train"], epochs=args.epochs, batch_size=128,
              validation_data=(arrays["x_test"][..., None], arrays["y_test"]), verbose=2)
    model.save(args.out)
    print(f"saved {args.out.resolve()}; see it beside the ladder with:\n"
          f"  ./run.sh --model {args.out} --dataset {args.dataset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
