"""Your own data: every validation rule, the import command's files, cache reuse by content, and
an imported dataset published beside (and kept by) the built-in ones."""
from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

from core.errors import DataError
from core.store import ArtifactStore
from tests.conftest import pipeline_main
from training.imported import check, import_arrays

N, C = 120, 4


def arrays(n: int = N, rgb: bool = True, seed: int = 0) -> dict:
    """Images whose colour and a bar say their class, and embeddings that cluster by it."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % C
    images = np.zeros((n, 16, 20, 3) if rgb else (n, 16, 20), np.uint8)
    for i, y in enumerate(labels):
        images[i, y * 4:(y + 1) * 4] = 255
        images[i, :, :2] = i % 256  # the row, so two images never coincide
    emb = rng.normal(size=(n, 8)).astype(np.float32) + 4 * np.eye(C, 8)[labels]
    return {"images": images, "labels": labels, "embeddings": emb}


@pytest.mark.parametrize("change,message", [
    ({"images": np.zeros((N, 16, 20), np.float64)}, r"images: expected uint8 pixels 0-255; got float64 values from 0 "
                                                    r"to 0: convert with \(images \* 255\)\.round\(\)"),
    ({"images": np.full((N, 16, 20), 300)}, r"images: expected pixel values 0-255 \(uint8\); got int64 values from 300"),
    ({"images": np.zeros((N, 3, 16, 16), np.uint8)}, r"images: expected shape .*; got \(120, 3, 16, 16\); channels "
                                                     r"first\? use images\.transpose\(0, 2, 3, 1\)"),
    ({"images": np.zeros((N, 100, 100), np.uint8)}, r"images: expected height and width from 8 to 64 pixels; got 100x100"),
    ({"images": np.zeros((N, 16), np.uint8)}, r"images: expected shape \(n, height, width\)"),
    ({"labels": np.arange(N - 1) % C}, r"labels: expected shape \(120,\), one label per image; got \(119,\)"),
    ({"labels": np.eye(C)[np.arange(N) % C]}, r"labels: expected one class number per image.*one-hot\? use labels\.argmax\(1\)"),
    ({"labels": np.arange(N) % C - 1}, r"labels: expected class numbers 0\.\.2; got values from -1 to 2"),
    ({"labels": np.zeros(N)}, r"labels: expected 2 to 100 classes; got 1"),
    ({"labels": np.arange(N) / 7}, r"labels: expected integer class numbers 0\.\.C-1; got float64 values that are not whole"),
    ({"class_names": ["a", "b", "c"]}, r"labels: expected class numbers 0\.\.2 \(one per class name: 3 class_names given\); got values from 0 to 3"),
    ({"class_names": ["a", "b", "a", "c"]}, r"class_names: expected distinct names; \['a'\] appear more than once"),
    ({"class_names": ["a", "", "b", "c"]}, r"class_names: class 1 has an empty name"),
    ({"class_names": "abcd"}, r"class_names: expected a list of 4 names; got str"),
    ({"embeddings": np.zeros((N - 1, 8))}, r"embeddings: expected 120 rows, one per image; got 119"),
    ({"embeddings": np.zeros(N)}, r"embeddings: expected shape \(120, d\), one row per image; got \(120,\)"),
    ({"embeddings": np.where(np.arange(N)[:, None] == 7, np.nan, np.ones((N, 8)))},
     r"embeddings: 1 rows hold NaN or infinite values \(first: row 7\); drop or fix those rows"),
    ({"embeddings": np.ones((N, 8))}, r"embeddings: every row is the same vector"),
    ({"proba": np.full((N, C), 2.0)}, r"proba: expected rows of probabilities .* logits\? apply scipy\.special\.softmax"),
    ({"proba": np.full((N, C + 1), 0.2)}, r"proba: expected shape \(120, 4\)"),
    ({"pred": np.full(N, C)}, r"pred: expected integer class numbers 0\.\.3; got int64 values from 4 to 4"),
    ({"pred": np.zeros(N, int), "proba": np.full((N, C), 0.25)}, r"pred: give proba or pred, not both"),
    ({"embeddings": None, "pred": np.zeros(N, int)}, r"embeddings: proba or pred was given without the embeddings"),
])
def test_every_refusal_names_the_argument_what_was_expected_and_what_was_found(change, message):
    given = {**arrays(), **change}
    with pytest.raises(DataError, match=message):
        check(**given, name="mine")


@pytest.mark.parametrize("name,message", [("MNIST", "name: expected 1-40 lowercase"), ("mnist", "built-in dataset"),
                                          ("../x", "name: expected"), ("", "name: expected")])
def test_a_bad_name_is_refused(name, message):
    with pytest.raises(DataError, match=message):
        check(**arrays(), name=name)


def test_more_classes_than_the_explorer_draws_are_refused():
    """One bound (core.datasets.MAX_CLASSES) for the import check and the explorer's colours."""
    from core.datasets import MAX_CLASSES
    from explorer import classes

    assert classes.MAX_CLASSES is MAX_CLASSES == 100 and len(classes.class_colours(MAX_CLASSES)) == MAX_CLASSES
    n = 2 * (MAX_CLASSES + 1)
    images = np.zeros((n, 8, 8), np.uint8)
    labels = np.arange(n) % (MAX_CLASSES + 1)
    fix = r"; merge classes or import a subset of them \(the explorer draws up to 100\)"
    with pytest.raises(DataError, match=r"^labels: expected 2 to 100 classes; got 101" + fix + "$"):
        check(images, labels, name="many")
    with pytest.raises(DataError, match=r"^labels: expected 2 to 100 classes; got 101" + fix):
        check(images, np.array([f"c{i:03d}" for i in labels]), name="many")
    with pytest.raises(DataError, match=r"^class_names: expected 2 to 100 classes; got 101" + fix):
        check(images, labels % 100, class_names=[f"c{i}" for i in range(MAX_CLASSES + 1)], name="many")
    assert len(check(images, labels % 100, name="many").class_names) == MAX_CLASSES


def test_too_few_samples_for_the_perplexity_is_refused():
    with pytest.raises(DataError, match=r"images: 40 images; the layouts need at least 91 \(t-SNE with perplexity p"):
        check(**arrays(40), name="mine", min_samples=91)


def test_accepted_inputs_are_normalised():
    a = arrays()
    g = check(a["images"][..., :1].repeat(1, -1), np.array(["cat", "dog", "cow", "ant"] * (N // C)), name="mine")
    assert g.images.shape == (N, 16, 20) and g.image_shape == (16, 20, 1)  # (n, h, w, 1) is grey
    assert g.class_names == ("ant", "cat", "cow", "dog") and g.labels[:4].tolist() == [1, 3, 2, 0]
    g = check(a["images"].astype(np.int64), a["labels"].astype(np.float32), a["embeddings"].astype(np.float64),
              pred=np.zeros(N, np.int32), name="mine")
    assert (g.images.dtype, g.labels.dtype, g.embeddings.dtype, g.pred.dtype) == (np.uint8, np.uint8, np.float32, np.uint8)
    assert g.image_shape == (16, 20, 3) and g.class_names == ("0", "1", "2", "3")


def test_the_import_is_keyed_by_content(tmp_path):
    store = ArtifactStore(tmp_path)
    a = arrays()
    first = import_arrays(check(**a, name="mine"), store)
    assert import_arrays(check(**arrays(), name="mine"), store) == first  # the same arrays: the same folder
    b = arrays()
    b["labels"] = b["labels"].copy()
    b["labels"][0] = 1  # one label changed: a new folder
    assert import_arrays(check(**b, name="mine"), store) != first
    assert import_arrays(check(**a, name="mine", title="Mine"), store) != first
    assert np.array_equal(store.load_array(first / "images.npy"), a["images"])


def _idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


def _pipeline(*args, env_cache):
    return pipeline_main(*args, "--cache-dir", env_cache, "-q")


def test_the_import_command_reads_npy_npz_and_idx_and_the_explorer_lists_every_dataset(tmp_path):
    cache, a = tmp_path / "cache", arrays(rgb=False)
    np.savez(tmp_path / "mine.npz", images=a["images"], labels=a["labels"], embeddings=a["embeddings"],
             class_names=np.array(["w", "x", "y", "z"]))
    r = _pipeline("import", "mine", "--images", str(tmp_path / "mine.npz"), "--perplexity", "10", env_cache=cache)
    assert r.returncode == 0, r.stderr
    assert "python -m pipeline serve --cache-dir" in r.stdout
    idx = tmp_path / "idx"
    idx.mkdir()
    _idx(idx / "t10k-images-idx3-ubyte.gz", a["images"])
    _idx(idx / "t10k-labels-idx1-ubyte.gz", a["labels"])
    r = _pipeline("import", "digits", "--images", str(idx), "--split", "train", env_cache=cache)
    assert r.returncode == 2 and "needs train-images-idx3-ubyte, train-labels-idx1-ubyte" in r.stderr
    r = _pipeline("import", "digits", "--images", str(idx), "--perplexity", "10", env_cache=cache)
    assert r.returncode == 0, r.stderr
    current = json.loads((cache / "current.json").read_text())
    assert list(current["datasets"]) == ["mine", "digits"]  # the second import keeps the first
    mine, digits = current["datasets"]["mine"], current["datasets"]["digits"]
    assert mine["source"] == "imported" and mine["image_shape"] == [16, 20, 1]
    assert mine["class_names"] == ["w", "x", "y", "z"] and list(mine["models"]) == ["embeddings"]
    assert mine["models"]["embeddings"]["kind"] == "given" and list(digits["models"]) == ["pixels"]
    assert set(mine["models"]["embeddings"]["projections"]) == {"pca", "tsne", "umap"}
    assert mine["run"]["import_folder"].startswith("mine/import/")
    report = json.loads((cache / current["report"]).read_text())
    # the embeddings cluster by class, the pixels' bars do too: both separate perfectly
    assert report["datasets"]["mine"]["models"]["embeddings"]["knn_accuracy"] == 1.0
    assert report["datasets"]["digits"]["models"]["pixels"]["test_accuracy"] == 1.0
    from explorer.store import ExplorerStore

    shown = ExplorerStore(ArtifactStore(cache))
    assert shown.names == ["mine", "digits"] and shown.get("mine").n == N
    # a file's refusal names the file
    np.save(tmp_path / "bad.npy", np.zeros((N, 16, 20), np.float32))
    r = _pipeline("import", "bad", "--images", str(tmp_path / "bad.npy"), "--labels", str(tmp_path / "mine.npz"),
                  env_cache=cache)
    assert r.returncode == 2 and f"--labels {tmp_path / 'mine.npz'}: expected a .npy array or an IDX file" in r.stderr
    r = _pipeline("import", "bad", "--images", str(tmp_path / "bad.npy"), "--labels", str(idx / "t10k-labels-idx1-ubyte.gz"),
                  env_cache=cache)
    assert r.returncode == 2 and f"--images {tmp_path / 'bad.npy'}: expected uint8 pixels 0-255" in r.stderr
    assert not (cache / "bad").exists()  # nothing half-written


def test_a_refused_file_is_named_by_the_argument_that_gave_it_and_what_is_wrong(tmp_path):
    """Issue 26: random bytes were called "pickled (object) data" with advice on allow_pickle, and a
    --proba without --embeddings was said of "--embeddings <the images file>"."""
    cache, a = tmp_path / "cache", arrays(rgb=False)
    x, y, p, z = (tmp_path / f for f in ("x.npy", "y.npy", "p.npy", "mine.npz"))
    np.save(x, a["images"]), np.save(y, a["labels"]), np.save(p, np.full((N, C), 1 / C, np.float32))
    np.savez(z, images=a["images"], labels=a["labels"], pred=a["labels"])
    noise = tmp_path / "noise.npy"
    noise.write_bytes(np.random.default_rng(1).bytes(4096))
    (tmp_path / "noise.npz").write_bytes(noise.read_bytes())
    for args, message in [
        (("--images", noise, "--labels", y), f"--images {noise}: is not a .npy file (every .npy file starts "
                                             "with b'\\x93NUMPY'; its first bytes are b'"),
        (("--images", x, "--labels", noise), f"--labels {noise}: is not a .npy file"),
        (("--images", x, "--labels", y, "--embeddings", noise), f"--embeddings {noise}: is not a .npy file"),
        (("--images", tmp_path / "noise.npz"), f"--images {tmp_path / 'noise.npz'}: is not a .npz file"),
        (("--images", x, "--labels", y, "--proba", p), f"--proba {p}: class probabilities need the embeddings of "
                                                       "the model that made them, and none were given; pass "
                                                       "--embeddings e.npy too"),
        (("--images", z), f"--images {z} (its 'pred'): predicted classes need the embeddings"),
    ]:
        r = _pipeline("import", "mine", *args, env_cache=cache)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert "pickle" not in r.stderr and f"--embeddings {x}" not in r.stderr
    assert not cache.exists()  # nothing written
    # a value of the .npz is said of --images, which gave it, not of a flag nobody passed
    np.savez(z, images=a["images"], labels=np.full(N, 7.5))
    r = _pipeline("import", "mine", "--images", z, env_cache=cache)
    assert r.returncode == 2 and f"--images {z} (its 'labels'): expected integer class numbers" in r.stderr


def test_verify_repair_rebuilds_an_imported_dataset_from_its_import(tmp_path):
    from pipeline.commands import verify
    from pipeline.notebook import from_arrays

    cache = tmp_path / "cache"
    ds = from_arrays(**arrays(), name="mine", cache_dir=cache, perplexity=10, methods=("pca",), progress=False)
    assert ds.models["embeddings"]["test_accuracy"] == 1.0
    current = json.loads((cache / "current.json").read_text())
    coords = cache / current["datasets"]["mine"]["models"]["embeddings"]["projections"]["pca"] / "coords.npy"
    coords.write_bytes(coords.read_bytes()[:-8] + b"\0" * 8)
    assert verify(ArtifactStore(cache), repair=True, quiet=True) == 0
    assert verify(ArtifactStore(cache), quiet=True) == 0


def test_a_run_of_mnist_keeps_an_imported_dataset_on_the_page(real_data_dir, tmp_path):
    from pipeline.notebook import from_arrays

    cache = tmp_path / "cache"
    from_arrays(**arrays(), name="mine", cache_dir=cache, perplexity=10, methods=("pca", "tsne"), progress=False)
    before = json.loads((cache / "current.json").read_text())["datasets"]["mine"]
    r = _pipeline("all", "--no-serve", "--data-dir", str(real_data_dir), "--dataset", "mnist", "--models", "pixels",
                  "--train-subset", "1000", "--embed-subset", "200", "--tsne-iter", "100", "--methods", "pca,tsne",
                  env_cache=cache)
    assert r.returncode == 0, r.stderr
    current = json.loads((cache / "current.json").read_text())
    assert list(current["datasets"]) == ["mine", "mnist"] and current["datasets"]["mine"] == before
    assert current["datasets"]["mnist"]["source"] == "builtin" and current["datasets"]["mnist"]["image_shape"] == [28, 28, 1]
    report = json.loads((cache / current["report"]).read_text())
    assert set(report["datasets"]) == {"mine", "mnist"}


def test_from_model_sees_a_keras_model_in_memory_and_refuses_one_that_does_not_fit(tmp_path):
    import keras

    from pipeline.notebook import from_model

    a = arrays()
    inputs = keras.Input((16, 20, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(6, activation="relu", name="hidden")(x)
    model = keras.Model(inputs, keras.layers.Dense(C, activation="softmax", name="head")(x), name="Tiny Net")
    ds = from_model(model, a["images"], a["labels"], name="tiny", cache_dir=tmp_path, perplexity=10,
                    methods=("pca",), progress=False)
    current = json.loads((tmp_path / "current.json").read_text())
    entry = current["datasets"]["tiny"]["models"]["tiny-net"]
    assert entry["kind"] == "given" and entry["title"] == "Tiny Net" and list(ds.models) == ["tiny-net"]
    emb = np.load(tmp_path / entry["embed"] / "space.npy")
    assert emb.shape == (N, 6)  # the input of the final Dense layer: "hidden"'s activations
    with pytest.raises(DataError, match=r"model 'Tiny Net': takes inputs of shape \(16, 20, 3\); expected 16x20 "
                                        r"grayscale images: \(16, 20\), \(16, 20, 1\) or \(320,\)"):
        from_model(model, a["images"][..., 0], a["labels"], name="tiny-grey", cache_dir=tmp_path, progress=False)
    with pytest.raises(DataError, match=r"model 'Tiny Net': gives outputs of shape \(4,\); expected 5 class scores"):
        from_model(model, a["images"], a["labels"], class_names=list("abcde"), name="tiny5", cache_dir=tmp_path,
                   progress=False)
    with pytest.raises(DataError, match=r"has no layer named 'nope' \(embedding_layer=\)"):
        from_model(model, a["images"], a["labels"], embedding_layer="nope", name="tiny6", cache_dir=tmp_path,
                   progress=False)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != ".locks") == ["report", "tiny"]


def test_from_arrays_without_waiting_returns_at_once_and_fills_in_the_cache(tmp_path, monkeypatch):
    import threading

    from pipeline.notebook import from_arrays
    from pipeline.run import Pipeline

    go = threading.Event()
    publish = Pipeline.publish

    def held(self, *a, **k):  # the stages may not publish before the test has seen the call return
        assert go.wait(60)
        return publish(self, *a, **k)

    monkeypatch.setattr(Pipeline, "publish", held)
    cache = tmp_path / "cache"
    ds = from_arrays(**arrays(), name="mine", cache_dir=cache, perplexity=10, methods=("pca", "tsne"),
                     progress=False, wait=False)
    assert not ds.done and not (cache / "current.json").exists()  # returned while the stages run
    assert "computing in the background" in repr(ds)
    go.set()
    assert ds.wait(300) is ds and ds.done
    assert ds.models["embeddings"]["test_accuracy"] == 1.0  # the report, once done
    current = json.loads((cache / "current.json").read_text())
    assert sorted(current["datasets"]["mine"]["models"]["embeddings"]["projections"]) == ["pca", "tsne"]
    assert not (cache / "progress.json").exists()
