"""The words every package shares: embedding spaces, projection methods, sample sets, sample ids."""
from __future__ import annotations

#: High-dimensional spaces a dataset is projected from: the CNN's penultimate layer, the raw pixels.
SPACES = ("cnn", "pixels")
SPACE_LABELS = {"cnn": "CNN embedding", "pixels": "Raw pixels"}

#: Projection methods, in the order the pipeline computes them.
METHODS = ("pca", "tsne", "umap")
PROJECTION_LABELS = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}

#: "test": the 10,000 test images; "all": the 60,000 training images, then the 10,000 test images.
SAMPLE_SETS = ("test", "all")


def test_id_to_sample_id(test_id, sample_set: str, n_train: int = 60_000):
    """The sample id of test image ``test_id`` in ``sample_set`` (ids after the training images in "all")."""
    return test_id + (n_train if sample_set == "all" else 0)
