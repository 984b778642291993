"""Till basket files: one basket per line, item names separated by commas
(the layout of the public "Groceries" market-basket file). Names are trimmed
and repeats within a basket count once; blank lines are skipped."""

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from commerce.models import ImportedBasket
from inventory.models import Product
from inventory.services import product_create

# Demo catalogue SKUs: "DEMO-" and the name in capitals, runs of anything but
# letters and digits as one dash ("whole milk" -> DEMO-WHOLE-MILK), cut to the
# 64 characters a SKU holds.
SKU_PREFIX = "DEMO-"
SKU_MAX = 64


def basket_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, distinct names in first-seen order) of each non-blank line."""
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            names = [name.strip() for name in line.split(",")]
            distinct = list(dict.fromkeys(name for name in names if name))
            if distinct:
                yield number, distinct


def sku_of_name(name: str) -> str:
    """The demo catalogue's SKU of an item name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").upper() or "ITEM"
    return (SKU_PREFIX + slug)[:SKU_MAX].rstrip("-")


# Demo products created for names no product has: a flat price and one
# category, since a till file says nothing of either.
DEMO_PRICE = Decimal("1.00")
DEMO_CATEGORY = "groceries"
IMPORT_BATCH = 2_000


@dataclass(frozen=True)
class BasketImport:
    baskets: int
    skipped_lines: int
    products_created: int
    unknown_names: list[str]


def baskets_import(*, path: Path, create_products: bool, progress: Callable[[int], None] | None = None) -> BasketImport:
    """Import the baskets of ``path`` as baskets of product ids. Names map to
    the retailer's products by their demo SKU; ``create_products`` creates
    the missing ones (through inventory's catalogue service, events and all),
    otherwise their items are left out. Importing the same file again adds
    nothing (a basket is keyed by file name and line)."""
    lines = list(basket_lines(path))
    names = list(dict.fromkeys(name for _number, basket in lines for name in basket))
    skus = {name: sku_of_name(name) for name in names}
    ids = dict(Product.objects.filter(owner__isnull=True, sku__in=set(skus.values())).values_list("sku", "pk"))
    created = 0
    if create_products:
        for name in names:
            if skus[name] not in ids:
                product = product_create(
                    owner=None,
                    fields={
                        "sku": skus[name],
                        "name_fr": name,
                        "name_en": name,
                        "category": DEMO_CATEGORY,
                        "price_amount": DEMO_PRICE,
                    },
                )
                ids[product.sku] = product.pk
                created += 1
    unknown = [name for name in names if skus[name] not in ids]
    source = path.name[:200]
    before = ImportedBasket.objects.filter(source=source).count()
    skipped = 0
    for start in range(0, len(lines), IMPORT_BATCH):
        batch = []
        for number, basket in lines[start : start + IMPORT_BATCH]:
            product_ids = [ids[skus[name]] for name in basket if skus[name] in ids]
            if product_ids:
                batch.append(ImportedBasket(source=source, position=number, product_ids=product_ids))
            else:
                skipped += 1
        ImportedBasket.objects.bulk_create(batch, ignore_conflicts=True)
        if progress is not None:
            progress(min(start + IMPORT_BATCH, len(lines)))
    imported = ImportedBasket.objects.filter(source=source).count() - before
    return BasketImport(baskets=imported, skipped_lines=skipped, products_created=created, unknown_names=unknown)
