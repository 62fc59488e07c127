"""Browser explorer of the embeddings the pipeline cached (the datasets ``current.json`` lists).

Light on purpose: importing it loads nothing; ``explorer.app.create_app`` and
``explorer.server.serve`` pull in Dash when called.  No TensorFlow, sklearn or umap,
and nothing of ``pipeline``, ``training`` or ``embeddings``: the explorer reads the
cache through ``core.store`` alone.

Modules, by job:

- ``store``: ``current.json`` (version 2) and the report; ``views``: one dataset's samples and each
  model's view of them (predictions, k-NN graph, layouts, dynamics, and where computed label issues
  and each layout's faithfulness), verified and loaded lazily; ``labelissues``: a model's suspected
  label errors, checked against the samples; ``state``: the URL's view state.
- ``figures``, ``dynamics``: Plotly figures; ``panels``: HTML panels and the CSV export;
  ``thumbnails``: sprite sheets and thumbnails.
- ``ids``: component ids; ``checks``: input checks and the callback error handler;
  ``widgets``: shared component builders.
- ``page``: the page shell and its page-wide callbacks; ``tabs.*``: one module per tab.
- ``routes``: the HTTP routes beside Dash and compression; ``app``: wires it all;
  ``server``: waitress; ``options``: how it is served (host, port, threads, debug).
"""
