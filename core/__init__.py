"""The ground floor every package imports: the artifact store, error types, the names of
datasets, models and projections, and the facts about each dataset.

Nothing here imports ``training``, ``embeddings``, ``explorer`` or ``pipeline``; it needs
only numpy and the standard library (``filelock`` when a lock is taken).
"""

import os

# TensorFlow's oneDNN kernels: on by default only on CPUs with AVX-512 neural-network instructions;
# with them the default CNN's fit took 0.58x the time on this project's 2-core AVX2 machine (77.7 s
# against 133.8 s back to back; issue 23, benchmarks/cnn_speed.py), the same weights from run to run.
# TensorFlow reads this once, when first imported: every package imports core first, so it comes
# before. TF_ENABLE_ONEDNN_OPTS=0 turns it off.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
