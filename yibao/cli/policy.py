"""CLI commands of the policy area."""

import typer


def register(app: typer.Typer) -> None:
    pass
