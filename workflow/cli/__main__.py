"""``python -m workflow.cli``: the same as the ``workflow`` command."""

from workflow.cli.app import main

main()
