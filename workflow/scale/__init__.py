"""Where translation and scoring run: ``[scale] executor = "ray"`` sends them to a Ray
cluster as Ray Data ``map_batches`` over actors that load the model once each
(:mod:`~workflow.scale.raydata`); the driver keeps the store and commits what comes back,
part by part. ``executor = "local"`` (the default) needs nothing from here: the pipeline
calls the translation and scoring stages directly.
"""
