"""Synthetic artifact caches in the format of ``docs/ARTIFACTS.md``, made without TensorFlow in seconds:
the tests', the benchmarks' and the screenshots' data (a test knows each value it holds).

- ``cache.py``: MNIST and Fashion-MNIST with the ladder's three models (:func:`cache.write_synthetic_cache`)
- ``imported.py``: a user's own dataset (grey or RGB, 2 to 100 classes)
- ``images.py``: images that carry their row number, and exact or fake k-NN graphs

It reads the ground floor only (``core``: the store and ``current.json``'s declaration).
"""
