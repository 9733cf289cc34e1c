"""workflow: translate English documents into Belarusian and Russian, align, score, review.

The package is a library first; ``workflow.cli.app`` is a thin command line over it.
Importing it has no side effects (no model loads, no network, no files written).
"""

__version__ = "0.1.0"
