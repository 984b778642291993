"""Inventory test data: products with valid GTINs, and stock put in place
through the services (so the ledger always reconciles)."""

from decimal import Decimal
from typing import Any

import factory

from inventory.models import Location, MovementReason, Product, StockLevel, gtin_check_digit
from inventory.services import StockLine, stock_apply, stock_set


def gtin13(body: str) -> str:
    """A GTIN-13 from its first 12 digits."""
    return body + str(gtin_check_digit(body))


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    gtin = factory.Sequence(lambda n: gtin13(f"3760000{n:05d}"))
    category = "grocery"
    price_amount = Decimal("2.50")
    price_currency = "EUR"
    name_fr = factory.Sequence(lambda n: f"Produit {n}")
    name_en = factory.Sequence(lambda n: f"Product {n}")


def stock(location: Location, product: Product, on_hand: int, *, reserved: int = 0) -> StockLevel:
    """Set a level to ``on_hand`` (and reserve ``reserved`` of it) through the services."""
    current = StockLevel.objects.filter(location=location, product=product).values_list("on_hand", flat=True).first()
    stock_set(location=location, product=product, on_hand=on_hand, expected_on_hand=current or 0)
    if reserved:
        stock_apply(
            location_id=location.pk,
            lines=[StockLine(product_id=product.pk, quantity=reserved)],
            reason=MovementReason.RESERVATION,
        )
    return StockLevel.objects.get(location=location, product=product)


def problem(response: Any) -> dict[str, Any]:
    """The problem+json body of an error response (asserting it is one)."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body
