"""Command line: thin typer commands over the library (``workflow --help``).

- ``app``: the typer app, and the one place errors become messages and exit codes;
- ``common``: config options and config loading (written once), the console;
- ``run`` (run, score, translate, models), ``align``, ``qe``, ``compare``, ``review``.
"""
