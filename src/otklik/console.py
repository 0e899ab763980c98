"""The CLI's error console, its error exit and progress bar, shared by the root CLI
(:mod:`otklik.cli`) and the domains' commands (which must not import the root CLI: it
imports them)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print «Ошибка: message» on stderr; the exit to raise (``raise fail(...)``)."""
    # soft_wrap: a long message (a path) stays one line, whole, whatever the terminal width
    err.print(f"[red]Ошибка:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def progress_bar() -> Progress:
    """The progress bar every long command shows."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=False)
