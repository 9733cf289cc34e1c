"""Outputs: what a run writes into ``aligned/``, published as one set.

- ``publish``: staging, the ``WRITERS`` list, atomic publication;
- ``sink``: the shape of a writer (``add`` a chunk of whole documents, ``finish``) and
  where it puts its files (whole, or streamed chunk by chunk);
- one module per format, each with a ``Writer`` and ``files(rows, targets, summary)``
  (its whole set for a list of rows): ``parquet`` (the
  only writer and reader of ``segments.parquet``), ``tsv`` (``<doc>.tsv``,
  ``skipped.tsv``), ``xlsx`` (the review workbook ``<doc>.xlsx``), ``summary`` (``run.json``), ``tmx``, ``xliff`` (2.1 and 1.2), ``omegat`` (an OmegaT project per target), ``page``
  (review pages), ``report`` (``report.md``/``.html``);
- ``html``: the HTML escaping of every page.
- ``latin``: the ``be-Latn`` Łacinka that several formats add (``[outputs] latin``).
"""
