"""Training dynamics: alignment of per-epoch frames and per-epoch metrics."""
import numpy as np
import pytest

from embeddings.dynamics import DynamicsConfig, epoch_metrics, frame_stability, procrustes_align, project_frames
from core.errors import ConfigError


@pytest.fixture(scope="module")
def epochs_of_blobs(blobs):
    """Three 'epochs' of the same clusters, each slightly more separated than the last."""
    X, y = blobs
    X, y = X[:300], y[:300]
    r = np.random.default_rng(5)
    noise = r.normal(size=X.shape).astype(np.float32)
    frames = np.stack([X * s + noise * (1.5 - s) for s in (0.4, 0.7, 1.0)])
    return frames.astype(np.float32), y


def test_procrustes_recovers_a_rotated_scaled_shifted_copy(rng):
    A = rng.normal(size=(50, 2))
    t = 1.1
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    B = 0.3 * A @ R + [4, -2]
    np.testing.assert_allclose(procrustes_align(B, A), A, atol=1e-5)
    np.testing.assert_allclose(procrustes_align(B[:, ::-1], A), A, atol=1e-5)  # reflections too


@pytest.mark.parametrize("alignment", ["tsne-warm", "procrustes", "aligned-umap"])
def test_every_alignment_gives_steady_faithful_frames(alignment, epochs_of_blobs):
    emb, _ = epochs_of_blobs
    cfg = DynamicsConfig(alignment=alignment, perplexity=15, n_iter=200, warm_iter=100)
    seen = []
    frames = project_frames(emb, cfg, progress=lambda d, t: seen.append(d))
    assert frames.shape == (3, 300, 2) and frames.dtype == np.float32 and np.isfinite(frames).all()
    stats = frame_stability(frames, emb)
    assert stats["trustworthiness"] > 0.8
    # Unaligned independent runs would move points about a radius; aligned ones much less.
    assert stats["displacement"] < 0.6
    if alignment != "aligned-umap":
        assert seen == [1, 2, 3]


def test_unknown_alignment():
    with pytest.raises(ConfigError, match="unknown alignment 'morph'"):
        DynamicsConfig(alignment="morph")


def test_epoch_metrics_follow_separation(epochs_of_blobs):
    emb, y = epochs_of_blobs
    proba = np.eye(10, dtype=np.float32)[np.stack([y, y, y])]
    proba[0, :50] = np.eye(10)[(y[:50] + 1) % 10]
    rows = epoch_metrics(emb, proba, y, np.array([0, 0.5, 1.0]), np.array([0.5, 0.6, 0.7]))
    assert [r["epoch"] for r in rows] == [0, 0.5, 1] and [r["frame"] for r in rows] == [0, 1, 2]
    assert rows[0]["silhouette"] < rows[2]["silhouette"]
    assert rows[0]["snapshot_accuracy"] == pytest.approx(250 / 300) and rows[2]["snapshot_accuracy"] == 1.0
    assert rows[1]["test_accuracy"] == pytest.approx(0.6)
    assert np.array(rows[0]["confusion"]).sum() == 300
