"""Training dynamics: per-epoch embeddings of a fixed test subset, projected into aligned frames.

Three ways to keep consecutive frames comparable (``ALIGNMENTS``):

- ``tsne-warm``: t-SNE of each epoch initialised from the previous epoch's layout
  (no early exaggeration after the first frame), so points move only as far as the
  new neighbourhoods demand;
- ``procrustes``: an independent t-SNE per epoch, then each frame rotated, reflected,
  scaled and shifted onto the previous one (orthogonal Procrustes, Schönemann 1966);
- ``aligned-umap``: umap-learn's ``AlignedUMAP`` over all epochs at once, with each
  sample related to itself in the next epoch.

:func:`frame_stability` measures how steady (displacement between frames) and how
faithful (trustworthiness of each frame) a set of frames is; the benchmark compares
the three and the pipeline uses :data:`DEFAULT_ALIGNMENT`.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, load_array, read_json, save_npy_atomic, write_json_atomic
from embeddings import metrics
from embeddings.knn import build_knn
from embeddings.methods.tsne import DEFAULT_TSNE_ITER

log = logging.getLogger(__name__)

STAGE = "dynamics"
ALIGNMENTS = ("tsne-warm", "procrustes", "aligned-umap")
DEFAULT_ALIGNMENT = "tsne-warm"


@dataclasses.dataclass(frozen=True)
class DynamicsConfig:
    """How the training snapshots become aligned frames (the training-dynamics view)."""

    alignment: str = option(DEFAULT_ALIGNMENT, "how consecutive snapshot layouts are kept comparable",
                            choices=ALIGNMENTS, flag="--dynamics-alignment")
    perplexity: float = option(30.0, "t-SNE perplexity of the frames", lo=0, lo_open=True,
                               flag="--dynamics-perplexity")
    # first frame; later warm-started frames use warm_iter.  Measured on the default run's snapshots
    # (2,000 images, 11 and 17 frames): 250 + 150 took 0.60-0.68x the time of 500 + 250 with the
    # frames as steady (displacement 0.100-0.102 vs 0.097-0.101) and trustworthiness within 0.0023;
    # 250 + 100 took 0.47x but lost up to 0.005 of trustworthiness
    n_iter: int = option(DEFAULT_TSNE_ITER, "t-SNE iterations of the first frame", lo=1, flag="--dynamics-iter")
    warm_iter: int = option(150, "t-SNE iterations of each warm-started frame", lo=1,
                            flag="--dynamics-warm-iter")
    k: int = option(10, "neighbours of the per-frame k-NN accuracy", lo=1, derived=True)
    seed: int = option(0, "seed of the frames' layouts", derived=True)

    def __post_init__(self) -> None:
        if self.alignment not in ALIGNMENTS:
            raise ConfigError(f"unknown alignment {self.alignment!r}; choose one of {', '.join(ALIGNMENTS)}")
        validate(self, "dynamics")


def procrustes_align(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotate/reflect, scale and shift ``frame`` to best match ``reference`` (least squares).

    Parameters
    ----------
    frame, reference : ndarray of shape (n, 2)
        The layout to move and the one it should match, row ``i`` the same sample in both.

    Returns
    -------
    ndarray of shape (n, 2), float32
        ``frame`` moved onto ``reference``.

    References
    ----------
    Schönemann, P. H. (1966). A generalized solution of the orthogonal Procrustes problem.
    """
    from scipy.linalg import orthogonal_procrustes

    mu_f, mu_r = frame.mean(0), reference.mean(0)
    F, R = frame - mu_f, reference - mu_r
    rot, singular_sum = orthogonal_procrustes(F, R)  # the rotation/reflection, and the trace it reaches
    scale = singular_sum / max((F ** 2).sum(), 1e-12)
    return (scale * F @ rot + mu_r).astype(np.float32)


def project_frames(embeddings: np.ndarray, config: DynamicsConfig, progress=None) -> np.ndarray:
    """Aligned 2-D frames (epochs, n, 2) of per-epoch embeddings (epochs, n, d)."""
    E, n, _ = embeddings.shape
    if not 0 < config.perplexity < n:
        raise ConfigError(f"dynamics perplexity must be > 0 and < n_samples (got {config.perplexity} for {n})")
    if config.alignment == "aligned-umap":
        return _aligned_umap(embeddings, config)
    from embeddings.projections import TSNE

    frames = []
    for e in range(E):
        X = embeddings[e]
        knn = build_knn(X, min(int(3 * config.perplexity), n - 1))
        if config.alignment == "tsne-warm" and frames:
            Y = tsne_from(X, knn, frames[-1], config)
        else:
            Y = TSNE(perplexity=config.perplexity, n_iter=config.n_iter, random_state=config.seed).fit_transform(X, knn=knn)
            if frames:
                Y = procrustes_align(Y, frames[-1])
        frames.append(Y.astype(np.float32))
        if progress:
            progress(e + 1, E)
    return np.stack(frames)


def tsne_from(X: np.ndarray, knn, init: np.ndarray, config: DynamicsConfig) -> np.ndarray:
    """t-SNE optimisation started from ``init`` without early exaggeration."""
    from openTSNE import TSNEEmbedding, affinity

    from embeddings.projections import gradient_method

    P = affinity.joint_probabilities_nn(knn.indices, knn.distances, [config.perplexity], symmetrize=True)
    emb = TSNEEmbedding(init.astype(np.float64), affinity.PrecomputedAffinities(P),
                        negative_gradient_method=gradient_method(len(X)), random_state=config.seed)
    emb = emb.optimize(n_iter=config.warm_iter, exaggeration=1, momentum=0.8)
    return np.asarray(emb, dtype=np.float32)


def _aligned_umap(embeddings: np.ndarray, config: DynamicsConfig) -> np.ndarray:
    import umap

    E, n, _ = embeddings.shape
    relations = [{i: i for i in range(n)} for _ in range(E - 1)]
    mapper = umap.AlignedUMAP(n_neighbors=15, random_state=config.seed)
    mapper.fit(list(embeddings), relations=relations)
    return np.stack([np.asarray(e, np.float32) for e in mapper.embeddings_])


def frame_stability(frames: np.ndarray, embeddings: np.ndarray, k: int = 10) -> dict:
    """Steadiness and faithfulness of aligned frames.

    Returns
    -------
    dict with ``displacement`` (mean distance a point moves between consecutive
    frames, in units of the frame's RMS radius; lower is steadier) and
    ``trustworthiness`` (mean over frames; higher is more faithful).
    """
    radius = np.sqrt(((frames - frames.mean(1, keepdims=True)) ** 2).sum(-1).mean(1))  # (E,)
    moves = [np.linalg.norm(frames[e] - frames[e - 1], axis=1).mean() / radius[e - 1]
             for e in range(1, len(frames))]
    trust = [metrics.trustworthiness(embeddings[e], frames[e], k) for e in range(len(frames))]
    return {"displacement": float(np.mean(moves)) if moves else 0.0,
            "displacement_per_epoch": [float(m) for m in moves],
            "trustworthiness": float(np.mean(trust)),
            "trustworthiness_per_epoch": [float(t) for t in trust]}


def epoch_metrics(embeddings: np.ndarray, proba: np.ndarray, labels: np.ndarray, epochs: np.ndarray,
                  test_accuracy: np.ndarray, k: int = 10, seed: int = 0) -> list[dict]:
    """Per frame: k-NN accuracy and silhouette in the embedding space, snapshot and test accuracy.

    ``epochs`` gives each frame's point in training (0 = untrained, 0.25 = a quarter
    into the first epoch, 1 = after the first epoch...); ``test_accuracy`` the test accuracy
    the fit recorded there (``training/callbacks.py`` Snapshot: the whole test set's at an epoch's
    end, the snapshot images' own before and inside the first epoch).
    """
    labels = labels.astype(np.int64)
    n_classes = proba.shape[-1]
    rows = []
    for e in range(len(embeddings)):
        knn = build_knn(embeddings[e], min(k, len(labels) - 1))
        pred = proba[e].argmax(1)
        confusion = np.zeros((n_classes, n_classes), np.int64)
        np.add.at(confusion, (labels, pred), 1)
        rows.append({"frame": e, "epoch": float(epochs[e]),
                     "knn_accuracy": metrics.knn_accuracy(knn, labels, k),
                     "silhouette": metrics.silhouette(embeddings[e], labels, seed=seed),
                     "snapshot_accuracy": float((pred == labels).mean()),
                     "test_accuracy": float(test_accuracy[e]),
                     "confusion": confusion.tolist()})
    return rows


def snapshot_schedule(snap: Path, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, test accuracy) of each snapshot frame; models from before fractional
    snapshots have one frame per epoch, whose accuracy is the history's ``val_accuracy``."""
    if (snap / "epochs.npy").is_file():
        return load_array(snap / "epochs.npy"), load_array(snap / "test_accuracy.npy")
    history = read_json(snap.parent / "history.json")
    return np.arange(1, n_frames + 1, dtype=np.float32), np.asarray(history["val_accuracy"][:n_frames], np.float32)


def build_dynamics(dataset: str, model_dir: Path, model_key: str, config: DynamicsConfig,
                   store: ArtifactStore, progress=None) -> Path | None:
    """Compute (or reuse) the aligned frames of a model's snapshots; None if it has none.

    Folder ``<cache>/<dataset>/dynamics/<key>/``: ``frames.npy`` float32 (epochs, n, 2),
    ``index.npy`` (test-set ids), ``labels.npy``, ``proba.npy`` (epochs, n, 10),
    ``epochs.npy`` (each frame's point in training) and ``epochs.json`` (per-frame
    metrics, see :func:`epoch_metrics`).
    """
    snap = Path(model_dir) / "dynamics"
    if not (snap / "embeddings.npy").is_file():
        return None

    def make(out: Path) -> dict:
        emb = store.load_array(snap / "embeddings.npy")
        proba = store.load_array(snap / "proba.npy")
        labels = store.load_array(snap / "labels.npy")
        t0 = time.perf_counter()
        frames = project_frames(emb, config, progress=progress)
        seconds = time.perf_counter() - t0
        epochs, accuracy = snapshot_schedule(snap, len(emb))
        rows = epoch_metrics(emb, proba, labels, epochs, accuracy, config.k, config.seed)
        save_npy_atomic(out / "frames.npy", frames)
        save_npy_atomic(out / "index.npy", store.load_array(snap / "index.npy"))
        save_npy_atomic(out / "labels.npy", labels)
        save_npy_atomic(out / "proba.npy", proba.astype(np.float32))
        save_npy_atomic(out / "epochs.npy", np.asarray(epochs, np.float32))
        write_json_atomic(out / "epochs.json", rows)
        log.info("%s: %d aligned frames (%s) in %.1f s", dataset, len(frames), config.alignment, seconds)
        return {"seconds": seconds}

    return store.build(dataset, STAGE, config, make, upstream=(model_key,))
