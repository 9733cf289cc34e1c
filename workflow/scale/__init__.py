"""Where translation and scoring run (:mod:`~workflow.scale.executor`): on this machine, or
with ``[scale] executor = "ray"`` on a pool of Ray actors that lives for the whole run and
loads each model once per actor (:mod:`~workflow.scale.cluster`); the driver keeps the
store and commits what comes back, part by part.
"""
