"""Browser explorer of the MNIST / Fashion-MNIST embeddings the pipeline cached.

Light on purpose: importing it loads nothing; ``explorer.app.create_app`` and
``explorer.server.serve`` pull in Dash when called.  No TensorFlow, sklearn or umap.
"""
