"""The ground floor every package imports: the artifact store, error types, the names of
datasets, models and projections, and the facts about each dataset.

Nothing here imports ``training``, ``embeddings``, ``explorer`` or ``pipeline``; it needs
only numpy and the standard library (``filelock`` when a lock is taken).
"""
