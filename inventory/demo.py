"""Demo locations, a grocery catalogue and its stock.

Locations: three stores in their real time zones and a warehouse and a shop
of the two demo partners. Products: the retailer's own catalogue (French and
English names, categories of the Groceries data set, GTIN-13 with a correct
check digit) and each partner's products. Stock: the retailer's products at
its stores, each partner's at its location, set through the stock engine so
the ledger reconciles. With ``--data-dir`` holding groceries_train.csv, a
category's stock follows how often it appears in those real baskets.

Idempotent: a second run updates rows and records no stock movement."""

import csv
import zlib
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import OutputWrapper

from inventory.models import Location, LocationKind, MovementReason, Product, gtin_check_digit
from inventory.services import StockChanges, client_location_bind, stock_changes_apply
from partners.models import ApiClient, Partner

_HOURS = {str(day): [["08:30", "20:30"]] for day in range(1, 7)} | {"7": [["09:00", "13:00"]]}

DEMO_LOCATIONS: list[dict[str, Any]] = [
    {
        "code": "PAR01",
        "name": "Paris Bastille",
        "kind": LocationKind.STORE,
        "city": "Paris",
        "postal_code": "75011",
        "latitude": Decimal("48.853100"),
        "longitude": Decimal("2.369100"),
        "click_and_collect": True,
    },
    {
        "code": "PAR02",
        "name": "Paris Montparnasse",
        "kind": LocationKind.STORE,
        "city": "Paris",
        "postal_code": "75014",
        "latitude": Decimal("48.842100"),
        "longitude": Decimal("2.321900"),
        "click_and_collect": True,
    },
    {
        "code": "LYO01",
        "name": "Lyon Part-Dieu",
        "kind": LocationKind.STORE,
        "city": "Lyon",
        "postal_code": "69003",
        "latitude": Decimal("45.760600"),
        "longitude": Decimal("4.859700"),
        "click_and_collect": True,
    },
    {
        "code": "ACME-WH1",
        "name": "Acme Foods Rungis warehouse",
        "kind": LocationKind.WAREHOUSE,
        "owner": "acme-foods",
        "city": "Rungis",
        "latitude": Decimal("48.746800"),
        "longitude": Decimal("2.348900"),
        "lead_time_days": 2,
    },
    {
        "code": "FRESH-PS1",
        "name": "Fresh Farm shop Versailles",
        "kind": LocationKind.PARTNER_STORE,
        "owner": "fresh-farm",
        "city": "Versailles",
        "latitude": Decimal("48.804900"),
        "longitude": Decimal("2.130100"),
        "lead_time_days": 1,
    },
]

DEMO_BINDINGS = [("demo-store-par01", "PAR01"), ("demo-device-par01", "PAR01")]

# sku, name_fr, name_en, category (as in the Groceries data set), brand, price in EUR
RETAILER_PRODUCTS = [
    ("LAIT-ENTIER-1L", "Lait entier 1 L", "Whole milk 1 L", "whole milk", "Maison", "1.15"),
    ("YAOURT-NATURE-4", "Yaourt nature x4", "Plain yogurt x4", "yogurt", "Maison", "1.60"),
    ("BEURRE-DOUX-250", "Beurre doux 250 g", "Unsalted butter 250 g", "butter", "Maison", "2.45"),
    (
        "CREME-EPAISSE-20",
        "Crème fraîche épaisse 20 cl",
        "Thick crème fraîche 20 cl",
        "whipped/sour cream",
        "Maison",
        "1.35",
    ),
    ("EMMENTAL-RAPE-200", "Emmental râpé 200 g", "Grated Emmental 200 g", "hard cheese", "Maison", "2.10"),
    ("CAMEMBERT-250", "Camembert de Normandie 250 g", "Normandy Camembert 250 g", "soft cheese", "Maison", "2.90"),
    ("OEUFS-PLEIN-AIR-6", "Oeufs plein air x6", "Free-range eggs x6", "domestic eggs", "Maison", "2.20"),
    ("BAGUETTE-TRADITION", "Baguette tradition", "Traditional baguette", "white bread", "Maison", "1.10"),
    ("PAIN-COMPLET-500", "Pain complet 500 g", "Wholemeal bread 500 g", "brown bread", "Maison", "2.30"),
    ("CROISSANTS-4", "Croissants pur beurre x4", "All-butter croissants x4", "pastry", "Maison", "2.60"),
    ("POMMES-GOLDEN-1KG", "Pommes Golden 1 kg", "Golden apples 1 kg", "pip fruit", "", "2.40"),
    ("BANANES-1KG", "Bananes 1 kg", "Bananas 1 kg", "tropical fruit", "", "1.90"),
    ("ORANGES-JUS-2KG", "Oranges à jus 2 kg", "Juice oranges 2 kg", "citrus fruit", "", "3.50"),
    ("TOMATES-GRAPPE-500", "Tomates grappe 500 g", "Vine tomatoes 500 g", "other vegetables", "", "2.20"),
    ("CAROTTES-1KG", "Carottes 1 kg", "Carrots 1 kg", "root vegetables", "", "1.30"),
    ("OIGNONS-1KG", "Oignons jaunes 1 kg", "Yellow onions 1 kg", "onions", "", "1.45"),
    ("FILETS-POULET-400", "Filets de poulet 400 g", "Chicken breast fillets 400 g", "chicken", "Maison", "5.90"),
    ("STEAK-HACHE-2", "Steaks hachés 5 % x2", "Beef burgers 5 % fat x2", "beef", "Maison", "4.20"),
    ("JAMBON-BLANC-4", "Jambon blanc x4 tranches", "Cooked ham, 4 slices", "ham", "Maison", "2.80"),
    ("SAUCISSES-TOULOUSE-4", "Saucisses de Toulouse x4", "Toulouse sausages x4", "sausage", "Maison", "4.50"),
    ("SAUMON-FUME-4", "Saumon fumé 4 tranches", "Smoked salmon, 4 slices", "fish", "Maison", "5.50"),
    ("SPAGHETTI-500", "Spaghetti 500 g", "Spaghetti 500 g", "pasta", "Maison", "0.95"),
    ("RIZ-BASMATI-1KG", "Riz basmati 1 kg", "Basmati rice 1 kg", "rice", "Maison", "2.60"),
    ("FARINE-T55-1KG", "Farine de blé T55 1 kg", "Plain wheat flour 1 kg", "flour", "Maison", "0.89"),
    ("SUCRE-POUDRE-1KG", "Sucre en poudre 1 kg", "Caster sugar 1 kg", "sugar", "Maison", "1.05"),
    ("CAFE-MOULU-250", "Café moulu 250 g", "Ground coffee 250 g", "coffee", "Maison", "3.40"),
    ("THE-NOIR-25", "Thé noir x25 sachets", "Black tea, 25 bags", "tea", "Maison", "2.10"),
    ("CHOCOLAT-NOIR-100", "Chocolat noir 70 % 100 g", "Dark chocolate 70 % 100 g", "chocolate", "Maison", "1.85"),
    ("JUS-ORANGE-1L", "Pur jus d'orange 1 L", "Pure orange juice 1 L", "fruit/vegetable juice", "Maison", "2.30"),
    ("EAU-MINERALE-6X15", "Eau minérale 6 x 1,5 L", "Mineral water 6 x 1.5 L", "bottled water", "Maison", "2.70"),
    ("COLA-15L", "Cola 1,5 L", "Cola 1.5 L", "soda", "Maison", "1.75"),
    ("BIERE-BLONDE-6", "Bière blonde 6 x 25 cl", "Lager 6 x 25 cl", "bottled beer", "Maison", "4.90"),
    ("COTES-RHONE-75", "Côtes-du-Rhône rouge 75 cl", "Côtes-du-Rhône red 75 cl", "red/blush wine", "", "6.50"),
    ("HUILE-OLIVE-1L", "Huile d'olive vierge extra 1 L", "Extra virgin olive oil 1 L", "oil", "Maison", "8.90"),
    ("CONFITURE-FRAISE-370", "Confiture de fraises 370 g", "Strawberry jam 370 g", "jam", "Maison", "2.20"),
    ("CORN-FLAKES-500", "Pétales de maïs 500 g", "Corn flakes 500 g", "cereals", "Maison", "2.40"),
    ("PAPIER-TOILETTE-12", "Papier toilette x12", "Toilet paper x12", "hygiene articles", "Maison", "4.80"),
    ("LESSIVE-LIQUIDE-2L", "Lessive liquide 2 L", "Liquid laundry detergent 2 L", "detergent", "Maison", "7.90"),
]

PARTNER_PRODUCTS: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    "acme-foods": [
        ("ACME-GRANOLA-500", "Granola noix et miel 500 g", "Nut and honey granola 500 g", "cereals", "Acme", "4.90"),
        ("ACME-MUESLI-750", "Muesli aux fruits secs 750 g", "Dried fruit muesli 750 g", "cereals", "Acme", "4.50"),
        (
            "ACME-COOKIES-200",
            "Cookies pépites de chocolat 200 g",
            "Chocolate chip cookies 200 g",
            "long life bakery product",
            "Acme",
            "2.95",
        ),
        ("ACME-CRACKERS-150", "Crackers au sésame 150 g", "Sesame crackers 150 g", "salty snack", "Acme", "2.10"),
        ("ACME-BARRES-6", "Barres de céréales x6", "Cereal bars x6", "specialty bar", "Acme", "3.20"),
        ("ACME-SOUPE-1L", "Soupe de légumes 1 L", "Vegetable soup 1 L", "soups", "Acme", "3.10"),
        ("ACME-KETCHUP-500", "Ketchup 500 g", "Ketchup 500 g", "ketchup", "Acme", "1.95"),
        ("ACME-PESTO-190", "Pesto au basilic 190 g", "Basil pesto 190 g", "sauces", "Acme", "2.75"),
    ],
    "fresh-farm": [
        ("FRESH-OEUFS-12", "Oeufs fermiers bio x12", "Organic farm eggs x12", "domestic eggs", "Fresh Farm", "4.60"),
        ("FRESH-LAIT-CRU-1L", "Lait cru fermier 1 L", "Raw farm milk 1 L", "whole milk", "Fresh Farm", "1.60"),
        (
            "FRESH-YAOURT-VANILLE-4",
            "Yaourts fermiers vanille x4",
            "Farm vanilla yogurts x4",
            "yogurt",
            "Fresh Farm",
            "2.90",
        ),
        (
            "FRESH-CHEVRE-150",
            "Fromage de chèvre frais 150 g",
            "Fresh goat cheese 150 g",
            "soft cheese",
            "Fresh Farm",
            "3.40",
        ),
        ("FRESH-POMMES-2KG", "Pommes du verger 2 kg", "Orchard apples 2 kg", "pip fruit", "Fresh Farm", "4.20"),
        (
            "FRESH-FRAISES-500",
            "Fraises de saison 500 g",
            "Seasonal strawberries 500 g",
            "berries",
            "Fresh Farm",
            "4.90",
        ),
        ("FRESH-MIEL-500", "Miel de fleurs 500 g", "Wildflower honey 500 g", "honey", "Fresh Farm", "6.80"),
        (
            "FRESH-POULET-15KG",
            "Poulet fermier entier 1,5 kg",
            "Whole free-range chicken 1.5 kg",
            "chicken",
            "Fresh Farm",
            "13.90",
        ),
    ],
}

# Where each owner's products are stocked: (location code, on-hand range)
STOCKED_AT: dict[str | None, list[tuple[str, tuple[int, int]]]] = {
    None: [("PAR01", (4, 80)), ("PAR02", (4, 60)), ("LYO01", (4, 70))],
    "acme-foods": [("ACME-WH1", (150, 900))],
    "fresh-farm": [("FRESH-PS1", (10, 120))],
}


def demo_gtin(index: int) -> str:
    """A GTIN-13 under a French GS1 prefix (300-379), check digit computed."""
    body = f"376012{index:06d}"
    return body + str(gtin_check_digit(body))


def load(*, stdout: OutputWrapper, options: dict[str, Any]) -> None:
    for spec in DEMO_LOCATIONS:
        data = dict(spec)
        owner = data.pop("owner", None)
        data["owner"] = Partner.objects.get(slug=owner) if owner else None
        data.setdefault("opening_hours", _HOURS)
        Location.objects.update_or_create(code=data.pop("code"), defaults=data)
    for client_id, code in DEMO_BINDINGS:
        client_location_bind(
            client=ApiClient.objects.get(client_id=client_id), location=Location.objects.get(code=code)
        )
    products = _load_products()
    popularity = _category_popularity(options.get("data_dir") or "")
    changed = demo_stock_set(products, popularity)
    source = "categories weighted by real baskets" if popularity else "no basket data"
    stdout.write(
        f"  {len(DEMO_LOCATIONS)} demo locations; store clients act for PAR01; {len(products)} products "
        f"({len(RETAILER_PRODUCTS)} retailer, {sum(map(len, PARTNER_PRODUCTS.values()))} partner); "
        f"{changed} stock levels set ({source})"
    )


def _load_products() -> list[Product]:
    catalogue: list[tuple[str | None, tuple[str, str, str, str, str, str]]] = [(None, p) for p in RETAILER_PRODUCTS]
    catalogue += [(slug, p) for slug, items in PARTNER_PRODUCTS.items() for p in items]
    owners = {p.slug: p for p in Partner.objects.filter(slug__in=PARTNER_PRODUCTS)}
    products = []
    for index, (slug, (sku, name_fr, name_en, category, brand, price)) in enumerate(catalogue, start=1):
        product, _created = Product.objects.update_or_create(
            owner=owners[slug] if slug else None,
            sku=sku,
            defaults={
                "gtin": demo_gtin(index),
                "name_fr": name_fr,
                "name_en": name_en,
                "category": category,
                "brand": brand,
                "price_amount": Decimal(price),
                "price_currency": "EUR",
                "is_active": True,
            },
        )
        products.append(product)
    return products


def _category_popularity(data_dir: str) -> dict[str, float]:
    """Share of real baskets holding each category, scaled so the most common is 1.0 (empty without data)."""
    path = Path(data_dir) / "groceries_train.csv" if data_dir else None
    if path is None or not path.is_file():
        return {}
    counts: Counter[str] = Counter()
    with path.open(newline="", encoding="utf-8") as handle:
        for basket in csv.reader(handle):
            counts.update({item.strip() for item in basket if item.strip()})
    top = max(counts.values(), default=0)
    return {category: count / top for category, count in counts.items()} if top else {}


def demo_stock_set(products: list[Product], popularity: dict[str, float] | None = None) -> int:
    """Stock ``products`` where their owner's demo products are stocked
    (STOCKED_AT), at deterministic figures, so a second run changes nothing;
    other demos stock what they add through it. Returns the levels changed."""
    locations = {loc.code: loc for loc in Location.objects.filter(code__in=[d["code"] for d in DEMO_LOCATIONS])}
    slugs = {p.pk: p.slug for p in Partner.objects.filter(slug__in=PARTNER_PRODUCTS)}
    changes = StockChanges()
    for product in products:
        for code, (low, high) in STOCKED_AT[slugs.get(product.owner_id) if product.owner_id else None]:
            # deterministic figures, so a second run changes nothing
            spread = zlib.crc32(f"{product.sku}@{code}".encode()) % (high - low + 1)
            # with basket data: x0.5 for a category no basket holds up to x1.5 for the most common one
            factor = 0.5 + popularity.get(product.category, 0.0) if popularity else 1.0
            changes.add(
                product_id=product.pk,
                location_id=locations[code].pk,
                quantity=max(low, round((low + spread) * factor)),
                is_set=True,
                sku=product.sku,
                location_code=code,
                audience=product.owner_id,
            )
    outcomes = stock_changes_apply(
        changes=changes, reason=MovementReason.SYNC, actor_id=None, reference="demo", all_or_nothing=True
    )
    return sum(outcome.status == "applied" for outcome in outcomes)
