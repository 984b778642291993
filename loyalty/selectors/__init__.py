"""Reads on loyalty, scoped to the caller: programs, campaigns and codes for
the operator, a shopper's own member, and what the discount engine needs to
price a basket (offers, codes and their budgets)."""

import datetime as dt
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gateway.api.problems import CallerNotAllowed
from gateway.sql import instance_of_row
from loyalty.errors import LoyaltyObjectNotFound
from loyalty.models import Campaign, CodeGenerationJob, CouponCode, Member, PointsMovement, Program
from loyalty.sql import MEMBER_OF_CARD, PROGRAM_VISIBLE_BY_CODE
from partners.callers import Caller
from partners.models import CallerKind

_M = TypeVar("_M", bound=models.Model)


def ensure_operator(*, caller: Caller) -> None:
    """Programs, campaigns, codes and members are the retailer's: only its operator manages them."""
    if not caller.is_operator:
        raise CallerNotAllowed(_("Only the retailer's operator manages loyalty programs, campaigns and codes."))


def programs_visible_to(*, caller: Caller, updated_since: dt.datetime | None = None) -> QuerySet[Program]:
    programs = Program.objects.all() if caller.is_operator else Program.objects.filter(is_active=True)
    return programs.filter(updated_at__gte=updated_since) if updated_since is not None else programs


def program_visible_by_code(*, caller: Caller, code: str) -> Program | None:
    """The program ``code`` names if ``programs_visible_to`` shows it to the
    caller, read by one plain statement (``loyalty.sql.PROGRAM_VISIBLE_BY_CODE``):
    every till ticket looks its program up, and compiling the ORM's query
    cost several times PostgreSQL's answer. tests/loyalty/test_visibility_sql.py
    holds the two equal for every kind of caller."""
    return _one_row(Program, PROGRAM_VISIBLE_BY_CODE, {"code": code, "all": caller.is_operator})


def _one_row(model: type[_M], sql: str, params: dict[str, Any]) -> _M | None:
    """The instance of the one row (every column, in the model's field
    order) a plain statement reads, as the ORM builds it; None: no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance_of_row(model, row)


def program_get(*, caller: Caller, code: str) -> Program:
    program = programs_visible_to(caller=caller).filter(code=code).first()
    if program is None:
        raise LoyaltyObjectNotFound()
    return program


def campaigns_of(
    *,
    caller: Caller,
    program: str | None = None,
    state: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Campaign]:
    ensure_operator(caller=caller)
    campaigns = Campaign.objects.select_related("program").prefetch_related("budgets", "stores")
    if program:
        campaigns = campaigns.filter(program__code=program)
    if state:
        campaigns = campaigns.filter(state=state)
    if updated_since is not None:
        campaigns = campaigns.filter(updated_at__gte=updated_since)
    return campaigns


def campaign_get(*, caller: Caller, campaign_id: int) -> Campaign:
    campaign = campaigns_of(caller=caller).filter(pk=campaign_id).first()
    if campaign is None:
        raise LoyaltyObjectNotFound()
    return campaign


def code_job_get(*, caller: Caller, job_id: int) -> CodeGenerationJob:
    ensure_operator(caller=caller)
    job = CodeGenerationJob.objects.filter(pk=job_id).first()
    if job is None:
        raise LoyaltyObjectNotFound()
    return job


def members_of(
    *, caller: Caller, program: str | None = None, updated_since: dt.datetime | None = None
) -> QuerySet[Member]:
    ensure_operator(caller=caller)
    members = Member.objects.select_related("program", "home_store")
    if program:
        members = members.filter(program__code=program)
    if updated_since is not None:
        members = members.filter(updated_at__gte=updated_since)
    return members


def _members_by_card(*, caller: Caller, card_number: str) -> QuerySet[Member]:
    """The operator reads any member; a store reads a member by the card
    presented at its till; a shopper only their own."""
    members = Member.objects.filter(card_number=card_number)
    if caller.kind == CallerKind.SHOPPER:
        members = members.filter(user_id=caller.user_id or 0)
    elif caller.kind not in (CallerKind.OPERATOR, CallerKind.STORE):
        members = members.none()
    return members


def member_get(*, caller: Caller, card_number: str) -> Member:
    """The member of a card, with its program and home store, if the caller
    may read it (``_members_by_card``; 404 otherwise)."""
    member = _members_by_card(caller=caller, card_number=card_number).select_related("program", "home_store").first()
    if member is None:
        raise LoyaltyObjectNotFound()
    return member


def member_of_card(*, caller: Caller, card_number: str) -> Member | None:
    """As ``member_get``, the member row alone (a basket, an order or a till
    ticket needs neither its program nor its home store): None when the
    caller may not read it. One plain statement (``loyalty.sql.MEMBER_OF_CARD``)
    with ``_members_by_card``'s rule, held equal to it for every kind of
    caller by tests/loyalty/test_visibility_sql.py: every quote, order with a
    card and till ticket reads it, and compiling the ORM's query cost several
    times PostgreSQL's answer."""
    if caller.kind == CallerKind.SHOPPER:
        user: int | None = caller.user_id or 0
    elif caller.kind in (CallerKind.OPERATOR, CallerKind.STORE):
        user = None
    else:
        return None
    return _one_row(Member, MEMBER_OF_CARD, {"card": card_number, "user": user})


def own_members(*, caller: Caller) -> QuerySet[Member]:
    """The signed-in shopper's memberships (one per program)."""
    if caller.kind != CallerKind.SHOPPER or caller.user_id is None:
        raise CallerNotAllowed(_("Only a signed-in shopper has a loyalty account of their own."))
    return Member.objects.select_related("program", "home_store").filter(user_id=caller.user_id, is_active=True)


def own_member(*, caller: Caller, program: str | None = None) -> Member:
    members = own_members(caller=caller)
    if program:
        members = members.filter(program__code=program)
    member = members.order_by("pk").first()
    if member is None:
        raise LoyaltyObjectNotFound(_("You are not a member of this loyalty program."))
    return member


def member_movements(*, member: Member) -> QuerySet[PointsMovement]:
    return PointsMovement.objects.filter(member=member)


def member_coupons(*, member: Member) -> QuerySet[CouponCode]:
    """Codes assigned to the member, of campaigns not ended."""
    return (
        CouponCode.objects.filter(member=member, campaign__state__in=["active", "paused"])
        .select_related("campaign")
        .order_by("pk")
    )
