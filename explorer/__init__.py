"""Browser explorer of the embeddings the pipeline cached (the datasets ``current.json`` lists).

In a notebook::

    import explorer
    explorer.show()                                   # what ./run.sh made, inline
    ds = explorer.from_arrays(images, labels, embeddings, name="mine")   # your own data
    ds.show()
    explorer.from_model(model, images, labels, name="mine-cnn").show()   # a Keras model in memory

``show`` lives in ``explorer.notebook``; ``from_arrays`` and ``from_model`` run the pipeline's
stages, so they live in ``pipeline.notebook`` and this package's front door forwards to them
on first use (the one import of an upper floor the layout test allows; no explorer module
makes it).

Light on purpose: importing it loads nothing; ``explorer.app.create_app`` and
``explorer.server.serve`` pull in Dash when called.  No TensorFlow, sklearn or umap,
and nothing of ``pipeline``, ``training`` or ``embeddings``: the explorer reads the
cache through ``core.store`` alone.

Modules, by job:

- ``store``: ``current.json`` (version 2) and the report; ``views``: one dataset's samples and each
  model's view of them (predictions, k-NN graph, layouts, dynamics, and where computed label issues
  and each layout's faithfulness), verified and loaded lazily; ``labelissues``: a model's suspected
  label errors, checked against the samples; ``state``: the URL's view state.
- ``figures``, ``charts``, ``dynamics``: Plotly figures (``classes``: class colours, legends, matrix settings); ``panels``: HTML panels and the CSV export;
  ``thumbnails``: sprite sheets and thumbnails.
- ``ids``: component ids; ``checks``: input checks and the callback error handler;
  ``widgets``: shared component builders.
- ``page``: the page shell and its page-wide callbacks; ``tabs.*``: one module per tab.
- ``routes``: the HTTP routes beside Dash and compression; ``app``: wires it all;
  ``server``: waitress; ``options``: how it is served (host, port, threads, debug);
  ``notebook``: ``explorer.show()`` in a notebook or from a script.
"""

__all__ = ["show", "from_arrays", "from_model"]


def __getattr__(name: str):
    """The notebook API, imported on first use (``import explorer`` itself loads nothing)."""
    if name == "show":
        from .notebook import show

        return show
    if name in ("from_arrays", "from_model", "Dataset"):
        from pipeline.notebook import Dataset, from_arrays, from_model

        return {"Dataset": Dataset, "from_arrays": from_arrays, "from_model": from_model}[name]
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
