"""CLI commands of the collection area (payments, receipts, refunds)."""

import typer


def register(app: typer.Typer) -> None:
    pass
