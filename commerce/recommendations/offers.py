"""What a shopper is offered beside a product page or a basket, at a store:
curated relations first (by weight), then the co-purchase model's products
(by score), cross-sell and upsell apart, and only products that can be
collected at that store: in its stock now, or brought by a warehouse or a
partner location by the pickup slot's day (inventory's availability decides
both, with its quantity cap). Inactive products never come back (inventory's
availability reads active products only).

Cold start: when no basket product was ever bought with another (a new
product), the cross-sell answer is the best sellers of the basket products'
categories at that store, then in the network, then the network's best sellers.

Upsell comes from curated relations only: whether a product is a better or
bigger alternative of another is a merchant's call that baskets cannot make
(two yoghurts bought together are complements, not one the upgrade of the
other).

Two or three statements: the serving version's row with the curated
relations, and inventory's availability statement (which names the active
products too), asked about the best candidates first and about the rest only
when the first ones leave the answer short; the model's scores are ranked in
memory (``commerce.recommendations.scoring``: a product's neighbours are read
once per process and version), and the cold start adds one."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from commerce.models import PickupSlot, RelationKind, RelationSource
from commerce.recommendations.scoring import ScoredProduct, basket_scores, model_version_active_and_curated
from commerce.sql import recommendations as sql
from gateway.api.problems import FieldInvalid
from inventory.models import Location, LocationKind, Product
from inventory.selectors.availability import AvailableAt, ProductAvailability, availability_at_store
from inventory.selectors.locations import location_visible_by_code
from inventory.selectors.products import products_visible_by_sku
from partners.callers import Caller

MAX_K = 50
# Mined candidates read per offer asked: the stock filter drops some (out of
# stock, not collectable by the slot's day, inactive); three per offer keeps
# the answer full when up to two thirds are dropped, and 160 rows at k = 50
# cost the in-memory scoring well under a millisecond.
CANDIDATES_PER_OFFER = 3
CANDIDATES_MIN = 20
# The stock filter asks inventory about the candidates in rank order: first
# the curated ones and the best k + k / FIRST_ASK_SPARE mined ones (at least
# two more than k), then, only if that left the cross-sell answer short, the
# rest. Where most candidates are collectable (a warehouse holds the range)
# one question about half as many products answers; the offers are the same
# as when all are asked at once, since they are taken in rank order.
FIRST_ASK_SPARE = 2
BEST_SELLER = "best_seller"


@dataclass(frozen=True, slots=True)
class BasketProduct:
    product_id: int
    sku: str
    name_fr: str
    name_en: str
    category: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a product is offered: ``code`` (``curated``, ``bought_with``,
    ``category_best_seller``, ``best_seller``), the basket product behind it,
    and in how many baskets the two were bought together."""

    code: str
    text: str
    with_sku: str | None = None
    baskets: int | None = None


@dataclass(frozen=True, slots=True)
class Collectable:
    """Where the offered units come from: the store's own stock (``store``)
    or a warehouse or partner location that brings them (``supply``) on
    ``available_on``, the store-local day they can be collected."""

    source: str
    code: str
    name: str
    kind: str
    available: int
    available_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Offer:
    product_id: int
    sku: str
    name_fr: str
    name_en: str
    kind: str
    source: str
    score: float
    reason: Reason
    relation_id: int | None
    collect: Collectable


@dataclass(frozen=True)
class Offers:
    store: Location
    local_date: dt.date | None
    slot_date: dt.date | None
    quantity_cap: int | None
    model_id: int | None
    cold_start: bool
    cross_sell: list[Offer]
    upsell: list[Offer]


def recommendation_store(*, caller: Caller, code: str) -> Location | None:
    """The click-and-collect store a question is about, if the caller may see it."""
    store = location_visible_by_code(caller=caller, code=code)
    if store is None or store.kind != LocationKind.STORE or not (store.is_active and store.click_and_collect):
        return None
    return store


def basket_products(*, caller: Caller, skus: Sequence[str]) -> tuple[list[BasketProduct], list[int]]:
    """The products the SKUs name among those the caller sees (active ones
    for stores and shoppers), and the positions of the SKUs that name none."""
    products = [
        BasketProduct(row.product_id, row.sku, row.name_fr, row.name_en, row.category)
        for row in products_visible_by_sku(caller=caller, skus=skus)
    ]
    known = {product.sku for product in products}
    return products, [index for index, sku in enumerate(skus) if sku not in known]


def recommendation_slot_date(*, store: Location, slot_id: int) -> dt.date:
    """The store-local day of the pickup slot: offers must be collectable by then."""
    slot = PickupSlot.objects.filter(pk=slot_id).values_list("store_id", "local_date").first()
    if slot is None:
        raise FieldInvalid("slot_id", _("No pickup slot with this id."), code="unknown_slot")
    if slot[0] != store.pk:
        raise FieldInvalid("slot_id", _("This pickup slot belongs to another store."), code="slot_of_another_store")
    return slot[1]


def recommendations_for_basket(
    *,
    caller: Caller,
    store: Location,
    basket: Sequence[BasketProduct],
    k: int,
    slot_date: dt.date | None,
    at: dt.datetime,
) -> Offers:
    ids = sorted({product.product_id for product in basket})
    model, curated = model_version_active_and_curated(products=ids)
    mined: list[ScoredProduct] = []
    category_best: set[int] = set()
    cold_start = False
    if model is not None:
        mined = basket_scores(model=model, basket=ids, limit=max(CANDIDATES_MIN, CANDIDATES_PER_OFFER * k))
        if not any(scored.because is not None for scored in mined):
            cold_start = True
            best = _category_best_sellers(model.id, store, basket, k)
            category_best = {scored.product_id for scored in best}
            mined = best + mined
    curated_targets = [target for _s, target, _k, _w, _id in curated]
    candidates = [pid for pid in dict.fromkeys(curated_targets + [s.product_id for s in mined]) if pid not in ids]
    first_ask = len(set(curated_targets)) + k + max(2, k // FIRST_ASK_SPARE)
    stock = _StockFilter(caller=caller, store=store, at=at, slot_date=slot_date)
    stock.ask(candidates[:first_ask])
    offers = _offers_in_rank_order(basket, curated, mined, category_best, stock, k)
    if len(offers[RelationKind.CROSS_SELL]) < k and len(candidates) > first_ask:
        stock.ask(candidates[first_ask:])
        offers = _offers_in_rank_order(basket, curated, mined, category_best, stock, k)
    return Offers(
        store=store,
        local_date=stock.local_date,
        slot_date=slot_date,
        quantity_cap=stock.quantity_cap,
        model_id=None if model is None else model.id,
        cold_start=cold_start,
        cross_sell=offers[RelationKind.CROSS_SELL],
        upsell=offers[RelationKind.UPSELL],
    )


class _StockFilter:
    """What inventory says of the candidates asked so far: their catalogue
    entries and, for the collectable ones, where they come from."""

    def __init__(self, *, caller: Caller, store: Location, at: dt.datetime, slot_date: dt.date | None) -> None:
        self.caller, self.store, self.at, self.slot_date = caller, store, at, slot_date
        self.catalogue: dict[int, ProductAvailability] = {}
        self.collectable: dict[int, Collectable] = {}
        self.local_date: dt.date | None = None
        self.quantity_cap: int | None = None

    def ask(self, product_ids: Sequence[int]) -> None:
        availability = availability_at_store(
            caller=self.caller, skus=[], product_ids=product_ids, store=self.store, at=self.at, limit=1
        )
        self.local_date, self.quantity_cap = availability.local_date, availability.quantity_cap
        for entry in availability.products:
            self.catalogue[entry.product_id] = entry
            if (where := _collectable(entry.locations, self.slot_date)) is not None:
                self.collectable[entry.product_id] = where


def _offers_in_rank_order(
    basket: Sequence[BasketProduct],
    curated: Sequence[tuple[int, int, str, float, int]],
    mined: Sequence[ScoredProduct],
    category_best: set[int],
    stock: _StockFilter,
    k: int,
) -> dict[str, list[Offer]]:
    """Curated relations first (by weight), then the mined scores, each kind
    up to k, each product once per kind, only what the stock filter found
    collectable."""
    catalogue, collectable = stock.catalogue, stock.collectable
    basket_by_id = {product.product_id: product for product in basket}
    texts = _ReasonTexts()
    offers: dict[str, list[Offer]] = {RelationKind.CROSS_SELL: [], RelationKind.UPSELL: []}
    seen: set[tuple[str, int]] = set()

    def offer(
        pid: int, kind: str, source: str, score: float, relation_id: int | None, because: ScoredProduct | int
    ) -> None:
        """Offered when collectable, new and within k; the reason (from the
        mined score, or the basket product a curated relation starts from) is
        written only then."""
        if pid not in collectable or (kind, pid) in seen or len(offers[kind]) >= k:
            return
        if isinstance(because, ScoredProduct):
            reason = _mined_reason(because, basket_by_id, texts, category_best=pid in category_best)
        else:
            reason = Reason("curated", texts.curated, basket_by_id[because].sku)
        seen.add((kind, pid))
        product = catalogue[pid]
        offers[kind].append(
            Offer(
                pid,
                product.sku,
                product.name_fr,
                product.name_en,
                kind,
                source,
                score,
                reason,
                relation_id,
                collectable[pid],
            )
        )

    for source_id, target, kind, weight, relation_id in curated:
        if target not in basket_by_id:
            offer(target, kind, RelationSource.CURATED, weight, relation_id, source_id)
    for scored in mined:
        source = RelationSource.MINED if scored.because is not None else BEST_SELLER
        offer(scored.product_id, RelationKind.CROSS_SELL, source, scored.score, None, scored)
    return offers


def _category_best_sellers(
    model_id: int, store: Location, basket: Sequence[BasketProduct], k: int
) -> list[ScoredProduct]:
    categories = sorted({product.category for product in basket if product.category})
    if not categories:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            sql.CATEGORY_BEST_SELLERS,
            {"model": model_id, "store": store.pk, "categories": categories, "limit": max(CANDIDATES_MIN, 3 * k)},
        )
        rows = cursor.fetchall()
    # Score 0: these stand in for the co-purchase scores the basket lacks.
    return [ScoredProduct(pid, 0.0, None, None, baskets) for pid, baskets, _at_store in rows]


def _collectable(locations: Sequence[AvailableAt], slot_date: dt.date | None) -> Collectable | None:
    """The store's own stock if it has some, else the soonest supply that can
    bring the product by the slot's day (any day when no slot is given)."""
    for where in locations:
        if where.available <= 0 or where.available_on is None:
            continue
        if where.source == "supply" and slot_date is not None and where.available_on > slot_date:
            continue
        return Collectable(
            where.source or "store", where.code, where.name, where.kind, where.available, where.available_on
        )
    return None


class _ReasonTexts:
    """The reasons' texts in the request's language, each translated once per
    answer (a translation lookup per offer cost more than the offer)."""

    @cached_property
    def english(self) -> bool:
        return (get_language() or "fr").startswith("en")

    @cached_property
    def curated(self) -> str:
        return _("curated")

    @cached_property
    def bought_with(self) -> str:
        return _("bought with %(name)s in %(count)d baskets")

    @cached_property
    def category_best(self) -> str:
        return _("best seller in its category")

    @cached_property
    def best(self) -> str:
        return _("best seller")


def _mined_reason(
    scored: ScoredProduct, basket: dict[int, BasketProduct], texts: _ReasonTexts, *, category_best: bool
) -> Reason:
    because = basket.get(scored.because) if scored.because is not None else None
    if because is not None and scored.together:
        name = because.name_en if texts.english and because.name_en else because.name_fr
        return Reason(
            "bought_with", texts.bought_with % {"name": name, "count": scored.together}, because.sku, scored.together
        )
    if category_best:
        return Reason("category_best_seller", texts.category_best, None, scored.baskets or None)
    return Reason(BEST_SELLER, texts.best, None, scored.baskets or None)


def product_basket(*, product: Product) -> BasketProduct:
    return BasketProduct(product.pk, product.sku, product.name_fr, product.name_en, product.category)
