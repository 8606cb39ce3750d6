"""Field types shared by API schemas."""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def _money_number(value: Decimal):
    """Yuan as a JSON number: 400 or 77.5 (the shortest text that reads back to the same cents)."""
    return int(value) if value == value.to_integral_value() else float(value)


Money = Annotated[Decimal, PlainSerializer(_money_number, when_used="always")]
