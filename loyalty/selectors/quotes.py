"""A quote: what a basket would get (discounts per line and per basket,
points, the reason each code does not apply), writing nothing. Prices,
categories and owners come from the catalogue, never from the client."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from gateway.api.problems import FieldInvalid
from inventory.models import Location
from inventory.selectors import store_id_of_caller
from inventory.selectors.locations import location_visible_by_code
from inventory.selectors.products import products_visible_to
from loyalty import pricing
from loyalty.models import Member, Program
from loyalty.selectors import member_of_card, own_members
from loyalty.selectors.offers import basket_price
from partners.callers import Caller
from partners.models import CallerKind


@dataclass(frozen=True)
class BasketLineInput:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class QuoteResult:
    program: Program
    store: Location | None
    member: Member | None
    quote: pricing.Quote
    products: dict[str, int]  # line key -> product id


def _store(caller: Caller, code: str | None) -> Location | None:
    own = store_id_of_caller(caller=caller) if caller.kind == CallerKind.STORE else None
    if own is not None and code is None:
        return Location.objects.get(pk=own)
    if code is None:
        return None
    store = location_visible_by_code(caller=caller, code=code)
    if store is None or (own is not None and store.pk != own):
        raise FieldInvalid("store", _("No such store, or not one you may quote for."), code="unknown_store")
    return store


def basket_member(
    caller: Caller, program: Program, card_number: str | None, field: str = "card_number"
) -> Member | None:
    """A shopper quotes as their own member of the program (anonymously when
    they are not one); a store or the operator for the card presented. A
    card that is not the caller's to use is a 422 on ``card_number``."""
    if caller.kind == CallerKind.SHOPPER:
        member = own_members(caller=caller).filter(program=program).order_by("pk").first()
        if card_number is not None and (member is None or card_number != member.card_number):
            raise FieldInvalid(field, _("This is not your card."), code="not_your_card")
        return member
    if card_number is None:
        return None
    member = member_of_card(caller=caller, card_number=card_number)
    if member is None:
        raise FieldInvalid(field, _("No member has this card."), code="unknown_card")
    if member.program_id != program.pk:
        raise FieldInvalid(field, _("This card belongs to another program."), code="other_program")
    return member


def quote_for(
    *,
    caller: Caller,
    program: Program,
    store_code: str | None,
    card_number: str | None,
    codes: Sequence[str],
    lines: Sequence[BasketLineInput],
    at: dt.datetime,
) -> QuoteResult:
    store = _store(caller, store_code)
    member = basket_member(caller, program, card_number)
    ids = sorted({line.product_id for line in lines})
    products = {
        p.pk: p
        for p in products_visible_to(caller=caller).filter(pk__in=ids, is_active=True, price_currency=program.currency)
    }
    missing = [i for i, line in enumerate(lines) if line.product_id not in products]
    if missing:
        raise FieldInvalid(
            f"lines.{missing[0]}.product_id",
            _("No such product, or not sold in the program's currency."),
            code="unknown_product",
        )
    _basket, result = basket_price(
        program=program,
        store_id=store.pk if store else None,
        member_id=member.pk if member else None,
        lines=[
            pricing.Line(
                key=str(index),
                sku=products[line.product_id].sku,
                quantity=line.quantity,
                unit_price=products[line.product_id].price_amount,
                category=products[line.product_id].category,
                owner_id=products[line.product_id].owner_id,
                product_id=line.product_id,
            )
            for index, line in enumerate(lines)
        ],
        codes=codes,
        at=at,
    )
    return QuoteResult(program, store, member, result, {str(i): line.product_id for i, line in enumerate(lines)})


def checkout_program(*, code: str | None, currency: str) -> Program:
    """The program an order's loyalty part names, or, when it names none,
    the one active program in the order's currency (422 on
    ``loyalty.program`` when there is none or more than one to choose)."""
    programs = Program.objects.filter(is_active=True, currency=currency)
    if code is not None:
        programs = programs.filter(code=code)
    found = list(programs.order_by("pk")[:2])
    if len(found) == 1:
        return found[0]
    if code is not None:
        raise FieldInvalid(
            "loyalty.program", _("No active program has this code in this currency."), code="unknown_program"
        )
    raise FieldInvalid(
        "loyalty.program",
        _("Name the loyalty program: none or several are active in this currency."),
        code="program_required",
    )


def checkout_member(*, caller: Caller, program: Program, card_number: str | None, customer_id: int) -> Member | None:
    """The member an order is for: the shopper's own (the card, if sent,
    must be theirs); for a store or the operator, the card presented, which
    must not belong to another customer, or else the customer's own
    membership; None when the customer is not a member."""
    if caller.kind == CallerKind.SHOPPER:
        return basket_member(caller, program, card_number, "loyalty.card_number")
    if card_number is None:
        return Member.objects.filter(program=program, user_id=customer_id, is_active=True).order_by("pk").first()
    member = basket_member(caller, program, card_number, "loyalty.card_number")
    if member is not None and member.user_id is not None and member.user_id != customer_id:
        raise FieldInvalid(
            "loyalty.card_number", _("This card belongs to another customer."), code="not_customers_card"
        )
    return member
