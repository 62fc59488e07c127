"""How separable the classes are: k-NN accuracy, silhouette, trustworthiness, neighbourhood overlap."""
from __future__ import annotations

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
    rng = np.random.default_rng(seed)
    queries = np.arange(n) if not max_queries or n <= max_queries else np.sort(rng.choice(n, max_queries, replace=False))
    sq = np.einsum("ij,ij->i", X, X)
    penalty = np.zeros(len(Ys))
    for s in range(0, len(queries), chunk):
        q = queries[s:s + chunk]
        d = sq[q, None] - 2 * (X[q] @ X.T) + sq[None, :]
        d[np.arange(len(q)), q] = -np.inf  # the query itself ranks 0
        for i, nb in enumerate(neighbours):
            dj = np.take_along_axis(d, nb[q], 1)  # (m, k)
            # rank of j = number of points strictly closer than j (the query itself included, at -inf)
            ranks = (d[:, None, :] < dj[:, :, None]).sum(-1)
            penalty[i] += np.maximum(ranks - k, 0).sum()
    m = len(queries)
    return [float(1.0 - 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)) * p) for p in penalty]


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
