"""Amounts of money as an operator reads them: "$37.50", never "37.5 USD"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SYMBOLS = {"USD": "$"}


def money(amount: object, currency: object = "USD") -> str:
    """Two decimals, thousands separated, the dollar sign for USD and the code after other currencies.

    Amounts arrive from Message.facts (JSON floats) or letters (Decimal); anything unreadable is shown as
    stored, so a strange value is still visible rather than dropped."""
    code = str(currency or "USD").upper()
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{amount} {code}".strip()
    if not value.is_finite():
        return f"{amount} {code}"
    figure = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {code}"
