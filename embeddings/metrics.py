"""How separable the classes are: k-NN accuracy, silhouette, trustworthiness, neighbourhood overlap."""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from embeddings.knn import KnnGraph, check_data
from core.errors import ConfigError


def knn_accuracy(knn: KnnGraph, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-NN classification accuracy from a neighbour graph.

    Each point takes the majority class of its ``k`` nearest neighbours (itself
    excluded); ties go to the class of the nearest tied neighbour.
    """
    nb = labels[knn.head(k).indices]
    n_classes = int(labels.max()) + 1
    votes = np.zeros((len(labels), n_classes), np.float64)
    # Tiny decreasing bonus by rank breaks ties in favour of nearer neighbours.
    weights = 1.0 + 1e-6 * np.arange(k, 0, -1)
    np.add.at(votes, (np.repeat(np.arange(len(labels)), k), nb.ravel()), np.tile(weights, len(labels)))
    return float((votes.argmax(1) == labels).mean())


def silhouette(X: np.ndarray, labels: np.ndarray, sample_size: int | None = 10000, seed: int = 0) -> float:
    """Mean silhouette coefficient (Rousseeuw 1987), on a seeded sample above ``sample_size``."""
    from sklearn.metrics import silhouette_score

    X = check_data(X)
    if len(np.unique(labels)) < 2:
        raise ConfigError("silhouette needs at least 2 classes in the labels")
    size = sample_size if sample_size and len(X) > sample_size else None
    return float(silhouette_score(X, labels, sample_size=size, random_state=seed))


#: Up to this many points the report's trustworthiness and silhouette are exact (every point a query;
#: the default 10,000-point run). Above it they are estimated from :data:`SAMPLE_QUERIES` seeded query points.
EXACT_MAX = 10_000
#: Query points of those estimates. Each query's distances to all n points are computed, so the estimates are
#: unbiased; the per-query spread measured on the 10,000-point runs (trustworthiness sd 0.005-0.06 for t-SNE
#: and UMAP, 0.07-0.17 for PCA) gives standard errors <= 0.0013 and <= 0.004. Their cost is linear in it:
#: 2,000 keeps the report of a 70,000-point run (6 models) within 2 minutes on 2 shared cores.
SAMPLE_QUERIES = 2_000


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A metric over points: ``value``, its standard error ``se`` (0 when every point was a query)
    and the number of ``queries`` it was computed from."""

    value: float
    se: float = 0.0
    queries: int = 0


def query_points(n: int, max_queries: int | None, seed: int = 0) -> np.ndarray:
    """Every row up to ``max_queries`` (or when it is None), else a seeded sample of that many, sorted."""
    if not max_queries or n <= max_queries:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_queries, replace=False))


def _mean_se(per_query: np.ndarray, n: int) -> tuple[float, float]:
    """Mean and standard error of a sample of ``len(per_query)`` of ``n`` rows drawn without replacement."""
    m = len(per_query)
    if m >= n or m < 2:
        return float(per_query.mean()), 0.0
    return float(per_query.mean()), float(per_query.std(ddof=1) / np.sqrt(m) * np.sqrt(1.0 - m / n))


def count_below(d: np.ndarray, t: np.ndarray, near: int = 512) -> np.ndarray:
    """``c[r, j]``: how many entries of row ``d[r]`` are strictly below ``t[r, j]`` (exact).

    The ``near`` smallest entries of each row (``np.partition``) answer every threshold up to the
    next-smallest; only thresholds beyond it, rare for a good layout, are counted over the whole row.
    At 70,000 columns and 30 thresholds this is about 8x faster than comparing every pair.
    """
    if d.shape[1] <= 4 * near:
        return (d[:, None, :] < t[:, :, None]).sum(-1)
    part = np.partition(d, near, axis=1)
    edge = part[:, near]  # every entry outside part[:, :near] is >= edge
    counts = (part[:, None, :near] < t[:, :, None]).sum(-1)
    far = t > edge[:, None]
    for r in np.flatnonzero(far.any(1)):
        cols = np.flatnonzero(far[r])
        counts[r, cols] = np.count_nonzero(d[r][None, :] < t[r, cols][:, None], axis=1)
    return counts


def _query_pass(X: np.ndarray, queries: np.ndarray, k: int, neighbours: list[np.ndarray],
                labels: np.ndarray | None = None, chunk: int = 256,
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per query row: each layout's trustworthiness penalty ``sum_j max(r_X(i, j) - k, 0)`` over its
    layout neighbours j, and (with ``labels``) its silhouette, from one pass of exact distances to all rows."""
    n = len(X)
    sq = np.einsum("ij,ij->i", X, X)
    penalty = np.zeros((len(neighbours), len(queries)))
    sil = None
    if labels is not None:
        onehot = np.zeros((n, int(labels.max()) + 1))
        onehot[np.arange(n), labels] = 1.0
        sizes = onehot.sum(0)
        sil = np.zeros(len(queries))
    for s in range(0, len(queries), chunk):
        q = queries[s:s + chunk]
        rows = np.arange(len(q))
        # squared distances sq_q - 2 x.y + sq, in place (the same rounding as the plain expression)
        d = X[q] @ X.T
        d *= -2.0
        d += sq[q, None]
        d += sq[None, :]
        d[rows, q] = -np.inf  # the query itself ranks 0
        if neighbours:
            dj = np.concatenate([np.take_along_axis(d, nb[q], 1) for nb in neighbours], 1)  # (m, layouts * k)
            # rank of j = number of points strictly closer than j (the query itself included, at -inf)
            ranks = count_below(d, dj).reshape(len(q), len(neighbours), k)
            penalty[:, s:s + chunk] = np.maximum(ranks - k, 0).sum(-1).T
        if sil is not None:
            np.maximum(d, 0.0, out=d)
            sil[s:s + chunk] = _silhouette_rows(np.sqrt(d, out=d) @ onehot, labels[q], sizes)
        if progress:
            progress(min(s + chunk, len(queries)), len(queries))
    return penalty, sil


def _silhouette_rows(sums: np.ndarray, own: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Silhouette of rows from their summed distances to each class (self at 0), as scikit-learn defines it:
    0 for a class of one, ``b`` the nearest other class's mean distance."""
    rows = np.arange(len(own))
    a = sums[rows, own] / np.maximum(sizes[own] - 1, 1)
    other = np.where(sizes[None, :] > 0, sums / np.maximum(sizes, 1)[None, :], np.inf)
    other[rows, own] = np.inf
    b = other.min(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    return np.where(sizes[own] > 1, np.nan_to_num(s), 0.0)


def _checked(X: np.ndarray, Ys: list[np.ndarray], k: int, y_knns) -> tuple[np.ndarray, list[np.ndarray]]:
    from embeddings.knn import build_knn

    X = check_data(X, "X").astype(np.float64)
    n = len(X)
    if not 1 <= k < n / 2:
        raise ConfigError(f"trustworthiness k must be in [1, n_samples / 2) (got k={k} for {n} samples)")
    y_knns = list(y_knns) if y_knns is not None else [None] * len(Ys)
    neighbours = []
    for Y, g in zip(Ys, y_knns):
        Y = check_data(Y, "Y")
        if len(Y) != n:
            raise ConfigError(f"X and Y must have the same number of rows (got {n} and {len(Y)})")
        neighbours.append((g if g is not None else build_knn(Y, k, method="exact")).head(k).indices.astype(np.int64))
    return X, neighbours


def _trust(penalty_sum: float, m: int, n: int, k: int) -> float:
    return float(1.0 - 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)) * penalty_sum)


def trustworthiness(X: np.ndarray, Y: np.ndarray, k: int = 10, max_queries: int | None = 10000,
                    seed: int = 0, chunk: int = 256, y_knn: KnnGraph | None = None) -> float:
    """Trustworthiness of embedding ``Y`` of ``X`` (Venna & Kaski 2001), as scikit-learn defines it.

    ``1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in N_k^Y(i) \\ N_k^X(i)} (r_X(i, j) - k)``,
    where ``r_X(i, j)`` is the rank of ``j`` among ``i``'s neighbours in ``X``. 1.0 means
    no point's embedded neighbours are strangers in the original space.

    Unlike ``sklearn.manifold.trustworthiness`` it never holds an n x n matrix: ranks are
    counted in chunks of query rows, and above ``max_queries`` points a seeded sample of
    query points estimates the mean (the ranks are still against all n points).
    """
    return trustworthiness_many(X, [Y], k, max_queries, seed, chunk, [y_knn])[0]


def trustworthiness_many(X: np.ndarray, Ys: list[np.ndarray], k: int = 10, max_queries: int | None = 10000,
                         seed: int = 0, chunk: int = 256, y_knns: list[KnnGraph | None] | None = None) -> list[float]:
    """:func:`trustworthiness` of several embeddings of one ``X``, sharing the distance computation."""
    return [e.value for e in trustworthiness_estimates(X, Ys, k, max_queries, seed, chunk, y_knns)]


def trustworthiness_estimates(X: np.ndarray, Ys: list[np.ndarray], k: int = 10, max_queries: int | None = 10000,
                              seed: int = 0, chunk: int = 256, y_knns: list[KnnGraph | None] | None = None,
                              progress: Callable[[int, int], None] | None = None) -> list[Estimate]:
    """:func:`trustworthiness_many` with each value's standard error over the sampled query points."""
    X, neighbours = _checked(X, Ys, k, y_knns)
    n = len(X)
    queries = query_points(n, max_queries, seed)
    penalty, _ = _query_pass(X, queries, k, neighbours, chunk=chunk, progress=progress)
    m = len(queries)
    return [Estimate(_trust(p.sum(), m, n, k), _mean_se(1.0 - 2.0 * p / (k * (2.0 * n - 3.0 * k - 1.0)), n)[1], m)
            for p in penalty]


def separability_estimates(X: np.ndarray, labels: np.ndarray, Ys: list[np.ndarray], k: int = 10,
                           max_queries: int | None = SAMPLE_QUERIES, seed: int = 0, chunk: int = 256,
                           y_knns: list[KnnGraph | None] | None = None,
                           progress: Callable[[int, int], None] | None = None) -> tuple[list[Estimate], Estimate]:
    """(trustworthiness of each of ``Ys``, silhouette of ``X``) from one pass over the same query points.

    Each query's exact distances to all n rows give its trustworthiness ranks and its silhouette
    ``(b - a) / max(a, b)`` (Rousseeuw 1987: ``a`` the mean distance to the rest of its class, ``b``
    to the nearest other class), so both means are unbiased estimates of the full ones with
    standard errors ``sd / sqrt(m) * sqrt(1 - m / n)``. With every row a query, both are exact
    (the silhouette equal to scikit-learn's up to rounding).
    """
    labels = np.asarray(labels, np.int64)
    if len(np.unique(labels)) < 2:
        raise ConfigError("silhouette needs at least 2 classes in the labels")
    X, neighbours = _checked(X, Ys, k, y_knns)
    n = len(X)
    if len(labels) != n:
        raise ConfigError(f"X and labels must have the same number of rows (got {n} and {len(labels)})")
    queries = query_points(n, max_queries, seed)
    penalty, sil = _query_pass(X, queries, k, neighbours, labels, chunk=chunk, progress=progress)
    m = len(queries)
    trust = [Estimate(_trust(p.sum(), m, n, k), _mean_se(1.0 - 2.0 * p / (k * (2.0 * n - 3.0 * k - 1.0)), n)[1], m)
             for p in penalty]
    return trust, Estimate(*_mean_se(sil, n), m)


def neighbourhood_overlap(knn: KnnGraph, labels: np.ndarray, n_classes: int, k: int = 10) -> np.ndarray:
    """``M[a, b]``: mean share of a class-``a`` point's ``k`` nearest neighbours that are of class ``b``."""
    nb = labels[knn.head(k).indices]
    M = np.zeros((n_classes, n_classes))
    for a in range(n_classes):
        rows = nb[labels == a]
        if len(rows):
            M[a] = np.bincount(rows.ravel(), minlength=n_classes)[:n_classes] / rows.size
    return M


def confusion_pairs(confusion: np.ndarray, overlap: np.ndarray, class_names: list[str]) -> list[dict]:
    """Every unordered class pair with its CNN confusions and neighbourhood overlap, most confused first."""
    n = len(class_names)
    pairs = []
    for a in range(n):
        for b in range(a + 1, n):
            pairs.append({"a": a, "b": b, "names": [class_names[a], class_names[b]],
                          "confusions": int(confusion[a, b] + confusion[b, a]),
                          "confusions_ab": int(confusion[a, b]), "confusions_ba": int(confusion[b, a]),
                          "overlap": float((overlap[a, b] + overlap[b, a]) / 2),
                          "overlap_ab": float(overlap[a, b]), "overlap_ba": float(overlap[b, a])})
    pairs.sort(key=lambda p: (-p["confusions"], -p["overlap"], p["a"], p["b"]))
    return pairs
