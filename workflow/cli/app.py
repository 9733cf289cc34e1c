"""The ``workflow`` command: one typer app over the library, and the one place where
errors become one clear message and an exit code (never a stack trace)."""

from __future__ import annotations

import sys

import click
import typer

from workflow.cli import align, compare, qe, review, run
from workflow.cli.common import console
from workflow.core.errors import WorkflowError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Translate English documents into Belarusian and Russian, align and score them for review.")
app.command()(run.run)
app.command()(run.score)
app.command()(run.translate)
app.command()(run.models)
app.command("align", help="Align a document with its translation (sentence level, N:M).")(align.align_command)
app.command("qe", help="Score any MT output without references (one segment per line).")(qe.qe_command)
app.command("compare", help="Compare systems or runs on the same segments: BLEU, chrF++, TER, paired significance.")(
    compare.compare_command)
app.add_typer(review.review_app, name="review", help="Bring reviewers' fixes back in (workflow review import FILE...).")


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into exit code 130
            raise KeyboardInterrupt
        if code:
            sys.exit(code)
    except WorkflowError as e:
        out = console()
        out.print("[bold red]error:[/] ", end="", highlight=False)
        out.print(e.message, highlight=False, markup=False)
        if e.hint:
            out.print(e.hint, highlight=False, markup=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        console().print("[yellow]interrupted[/]: finished translations are saved; run the same command again to resume.")
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.ClickException as e:  # usage errors arrive here in non-standalone mode
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
