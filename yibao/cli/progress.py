"""CLI commands of the progress area."""

import typer


def register(app: typer.Typer) -> None:
    pass
