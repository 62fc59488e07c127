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
  label errors, checked against the samples; ``state``: the URL's view state, composed of every
  registered view's fields (``registry``: what a view declares, and the registered ones;
  ``urlvalues``: how the fields' values are read and written).
- ``figures``, ``charts``, ``dynamics``: Plotly figures (``classes``: class colours, legends, matrix settings); ``panels``: HTML panels and the CSV export;
  ``thumbnails``: sprite sheets and thumbnails.
- ``ids``: component ids; ``checks``: input checks and the callback error handler;
  ``widgets``: shared component builders.
- ``page``: the page shell and its page-wide callbacks, composed from the registered views;
  ``controls``: the shared control bar; ``tabs.*``: one module per tab, each declaring its ``VIEW``.
- ``routes``: the HTTP routes beside Dash and compression; ``app``: wires it all;
  ``server``: waitress; ``warmup`` (with ``thumbworker``): what first requests need, prepared at start;
  ``options``: how it is served (host, port, threads, debug);
  ``notebook``: ``explorer.show()`` in a notebook or from a script.

Memory: what grows with requests is held in caches with byte ceilings, 208 MB in all: sprite
pages 128 MB (``thumbnails.SPRITE_CACHE_BYTES``), single thumbnails 32 MB
(``thumbnails.THUMB_CACHE_BYTES``; ``warmup`` fills half of each of these two at start),
gzipped Dash bundles 32 MB (``routes.BundleCache.MAX_BYTES``), brotli bodies 16 MB
(``precompress.MAX_BYTES``).  What a dataset's views load and derive (``views.DatasetView.cached``)
is bounded by the cache, not by requests: one entry per array, layout, colouring and layer (about
130 for 3 models), measured at about 30 MB per 70,000-point dataset of 3 models with every view
drawn (images and k-NN graphs are memory-mapped, outside that).
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
