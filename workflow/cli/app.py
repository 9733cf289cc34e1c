"""The ``workflow`` command: one typer app over the library, and the one place where
errors become one clear message and an exit code (never a stack trace).

Usage errors (unknown option or command, missing argument, bad value, no command) are
one line on stderr and exit code 2, as sacrebleu and pofilter do; a WorkflowError is its
message (and hint) with its own exit code."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated

import typer
from typer.main import get_command

from workflow.cli import align, compare, qe, review, run, store
from workflow.cli.common import console, require_command
from workflow.core.errors import WorkflowError

# rich_markup_mode=None: help texts are plain text. In typer's "rich" mode square brackets
# are markup, so a help text naming config sections ("[checks]") lost them: "(, )".
app = typer.Typer(add_completion=False, rich_markup_mode=None,
                  help="Translate English documents into Belarusian and Russian, align and score them for review.")
app.command()(run.run)
app.command()(run.score)
app.command()(run.translate)
app.command()(run.models)
app.command("align")(align.align_command)
app.command("qe")(qe.qe_command)
app.command("compare")(compare.compare_command)
app.add_typer(review.review_app, name="review")
app.add_typer(store.store_app, name="store")


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"workflow {metadata.version('workflow')}")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("workflow (not installed: version unknown)")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                                help="Print the version and exit.")] = False) -> None:
    require_command(ctx)


def _command_path(argv: list[str]) -> str:
    """``workflow review import`` for ``["review", "import", "x.tsv"]``: the command whose
    help a usage error points to (click does not always attach its context)."""
    cmd, path = get_command(app), ["workflow"]
    for word in argv:
        sub = getattr(cmd, "commands", {}).get(word)
        if sub is None:
            if word.startswith("-"):
                continue
            break
        cmd, path = sub, path + [word]
    return " ".join(path)


def _usage_line(e: typer.TyperException, argv: list[str]) -> str:
    message = " ".join(e.format_message().split())  # one line, whatever click wrapped
    if not message.endswith((".", "?", "!")):
        message += "."
    return f"error: {message} Try '{_command_path(argv)} --help'."


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app(args=args, standalone_mode=False, prog_name="workflow")
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
    except typer.TyperException as e:  # click's usage errors (exit code 2), raised in non-standalone mode
        console().print(_usage_line(e, args), highlight=False, markup=False)
        sys.exit(e.exit_code)
