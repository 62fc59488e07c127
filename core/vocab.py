"""The words every package shares: model names, sample sets, sample ids; older caches' projection titles."""
from __future__ import annotations

import re

#: What a model or a model kind may be called: it names folders, URL values and table rows.
#: The kinds themselves, the ladder's rungs and their titles are the registry's (``training/kinds/``).
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")

#: Titles of the projection methods a cache made before ``current.json`` recorded each dataset's
#: methods can hold, in the explorer's order: its fallback.  The methods themselves, their titles
#: and order are the registry's (``embeddings/methods/``), written into ``current.json``.
PROJECTION_LABELS = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}

#: "test": the 10,000 test images; "all": the 60,000 training images, then the 10,000 test images.
SAMPLE_SETS = ("test", "all")


def test_id_to_sample_id(test_id, sample_set: str, n_train: int = 60_000):
    """The sample id of test image ``test_id`` in ``sample_set`` (ids after the training images in "all")."""
    return test_id + (n_train if sample_set == "all" else 0)
