"""Outputs: what a run writes into ``aligned/``, published as one set.

- ``publish``: staging, the ``WRITERS`` list, atomic publication;
- one module per format, each with ``files(rows, targets, summary)``: ``parquet`` (the
  only writer and reader of ``segments.parquet``), ``tsv`` (``<doc>.tsv``,
  ``skipped.tsv``), ``xlsx`` (the review workbook ``<doc>.xlsx``), ``summary`` (``run.json``), ``tmx``, ``xliff`` (2.1 and 1.2), ``omegat`` (an OmegaT project per target), ``page``
  (review pages), ``report`` (``report.md``/``.html``);
- ``html``: the HTML escaping of every page.
"""
