"""CLI commands of the campaign area."""

import typer


def register(app: typer.Typer) -> None:
    pass
