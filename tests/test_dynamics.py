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


def _procrustes_by_hand(frame, reference):
    """The hand-written alignment scipy's ``orthogonal_procrustes`` replaced, kept as the reference."""
    mu_f, mu_r = frame.mean(0), reference.mean(0)
    F, R = frame - mu_f, reference - mu_r
    U, S, Vt = np.linalg.svd(F.T @ R)
    scale = S.sum() / max((F ** 2).sum(), 1e-12)
    return (scale * F @ (U @ Vt) + mu_r).astype(np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_procrustes_matches_the_hand_written_one(rng, dtype):
    t = 2.3
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    for n in (3, 50, 2000):
        A = (30 * rng.normal(size=(n, 2))).astype(dtype)
        cases = {"unrelated": 30 * rng.normal(size=(n, 2)),
                 "rotated": 2.5 * A @ rot + [7, -3] + rng.normal(size=(n, 2)),
                 "reflected": (2.5 * A @ rot)[:, ::-1] + rng.normal(size=(n, 2)),  # the best fit is a reflection
                 "collapsed": np.zeros((n, 2))}
        for name, B in cases.items():
            B = B.astype(dtype)
            got, want = procrustes_align(B, A), _procrustes_by_hand(B, A)
            assert got.dtype == np.float32, name
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * float(np.abs(want).max() + 1), err_msg=name)
            if name == "reflected" and n > 3:  # only a reflection brings it back onto A
                assert np.abs(got - A).mean() < 0.05 * np.abs(A).mean()


@pytest.mark.parametrize("alignment", ["tsne-warm", "procrustes",
                                       pytest.param("aligned-umap", marks=pytest.mark.slow)])  # numba: ~20 s
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
