"""Money (docs/api-guide.md, Money): ``{"amount": "10.00", "currency": "EUR"}``,
Decimal in code, never float; rounding to minor units is half-up and
happens here and nowhere else."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rest_framework import serializers

# ISO 4217 minor units of the currencies the network trades in; others have 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def money_round(amount: Decimal, currency: str = "EUR") -> Decimal:
    """Round half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """The API shape of an amount."""
    return {"amount": str(money_round(amount, currency)), "currency": currency}


class MoneySerializer(serializers.Serializer[Any]):
    """Reads and writes ``{"amount": "10.00", "currency": "EUR"}``."""

    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217 code.")
