"""Core: what every stage uses and nothing stage-specific.

- ``config``: typed ``config.toml``, one frozen section per stage;
- ``records``: the records stages pass on (Translation, SegmentVerdict, Row, statuses);
  they import no stage;
- ``errors``: the one-message errors and their exit codes; ``langs``: the languages;
- ``registry``: the ``@register`` decorator behind model families and checks;
- ``store``: the SQLite store (translation cache; the review stage keeps fixes there);
- ``lock``: one run per project; ``progress``: progress bars (or nothing, for library use);
- ``files``: atomic writes and safe output paths; ``tsv``: the spreadsheet-safe TSV cell;
- ``text``: the one decoder of user files, words, Latin and Cyrillic letters.
"""
