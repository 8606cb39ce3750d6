"""CLI commands of the registry area."""

import typer


def register(app: typer.Typer) -> None:
    pass
