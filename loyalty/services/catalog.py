"""The operator's writes: programs, members, campaigns (with budgets and a
state machine), public codes and bulk generation of unique codes.

Code generation: unique codes are ``<prefix><random><check>``, the random
part drawn with ``secrets`` from the job's charset and the check character
computed over prefix and random part (Luhn mod N on the charset, so one
mistyped character or two swapped neighbours are caught at the till before
any lookup). Batches of GENERATION_BATCH are inserted and committed one at a
time, ``generated`` moving with each, so the API shows progress and a worker
lost mid-job resumes where it stopped (the task is idempotent)."""

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gateway.api.problems import FieldInvalid
from inventory.models import Location
from loyalty.errors import (
    CampaignStateConflict,
    CardNumberTaken,
    CouponCodeTaken,
    MemberExists,
    ProgramCodeTaken,
)
from loyalty.models import (
    Campaign,
    CampaignBudget,
    CampaignState,
    CodeGenerationJob,
    CouponCode,
    Member,
    Program,
    ean13_check_digit,
)

# 10,000 codes per INSERT: one batch takes about a quarter of a second, so
# progress moves several times a second and a million codes need 100 batches.
GENERATION_BATCH = 10_000

# draft -> active <-> paused -> ended; a draft may also be ended (dropped). Ended is final.
TRANSITIONS = {
    CampaignState.DRAFT: {CampaignState.ACTIVE, CampaignState.ENDED},
    CampaignState.ACTIVE: {CampaignState.PAUSED, CampaignState.ENDED},
    CampaignState.PAUSED: {CampaignState.ACTIVE, CampaignState.ENDED},
    CampaignState.ENDED: set(),
}


def program_create(*, fields: dict[str, Any]) -> Program:
    try:
        with transaction.atomic():
            return Program.objects.create(**fields)
    except IntegrityError as exc:
        raise ProgramCodeTaken(_("A program with this code exists.")) from exc


def next_card_number(program: Program) -> str:
    """A new EAN-13 card number in the in-store range (prefix 2, GS1's
    restricted circulation numbers), random so that card numbers cannot be
    enumerated."""
    body = "29" + "".join(secrets.choice("0123456789") for _ in range(10))
    return body + str(ean13_check_digit(body))


def member_create(
    *,
    program: Program,
    user_id: int | None,
    card_number: str | None,
    home_store: Location | None,
    consent_targeted_offers: bool,
) -> Member:
    if user_id is not None and Member.objects.filter(program=program, user_id=user_id).exists():
        raise MemberExists(_("This shopper is already a member of the program."))
    for _attempt in range(5):
        number = card_number or next_card_number(program)
        try:
            with transaction.atomic():
                return Member.objects.create(
                    program=program,
                    user_id=user_id,
                    card_number=number,
                    home_store=home_store,
                    consent_targeted_offers=consent_targeted_offers,
                )
        except IntegrityError as exc:
            if card_number is not None or "card_number" not in str(exc):
                if "user" in str(exc):
                    raise MemberExists(_("This shopper is already a member of the program.")) from exc
                raise CardNumberTaken(_("This card number already belongs to a member.")) from exc
    raise CardNumberTaken(_("No free card number was found; retry."))


def campaign_create(
    *,
    program: Program,
    fields: dict[str, Any],
    budgets: Sequence[dict[str, Any]],
    stores: Sequence[Location],
    audience_stores: Sequence[Location],
) -> Campaign:
    """A campaign in draft (an operator activates it), with its budgets."""
    if fields["ends_at"] <= fields["starts_at"]:
        raise FieldInvalid("ends_at", _("The end must come after the start."))
    _check_benefit(fields)
    scopes = [b["scope"] for b in budgets]
    if len(set(scopes)) != len(scopes):
        raise FieldInvalid("budgets", _("One budget per scope."), code="duplicate_scope")
    with transaction.atomic():
        campaign = Campaign.objects.create(program=program, state=CampaignState.DRAFT, **fields)
        CampaignBudget.objects.bulk_create(CampaignBudget(campaign=campaign, **budget) for budget in budgets)
        campaign.stores.set(stores)
        campaign.audience_stores.set(audience_stores)
    return campaign


_BENEFIT_FIELDS = {
    "amount_off_basket": "benefit_amount",
    "amount_off_product": "benefit_amount",
    "percent_off_lines": "benefit_percent",
    "points_multiplier": "benefit_multiplier",
}


def _check_benefit(fields: dict[str, Any]) -> None:
    needed = _BENEFIT_FIELDS[fields["benefit"]]
    value = fields.get(needed)
    if value is None:
        raise FieldInvalid(needed, _("This benefit needs %(field)s.") % {"field": needed}, code="required")
    if needed == "benefit_percent" and not Decimal(0) < value <= Decimal(100):
        raise FieldInvalid(needed, _("A percentage between 0 and 100."))
    if needed == "benefit_multiplier" and value <= 1:
        raise FieldInvalid(needed, _("A multiplier above 1."))
    if needed == "benefit_amount" and value <= 0:
        raise FieldInvalid(needed, _("An amount above zero."))
    if fields.get("audience") == "category_buyers" and not fields.get("audience_category"):
        raise FieldInvalid("audience_category", _("Name the category whose buyers are targeted."), code="required")


def campaign_set_state(*, campaign: Campaign, state: str, now: dt.datetime | None = None) -> Campaign:
    """Move along draft -> active <-> paused -> ended (guarded on the state read)."""
    now = now or timezone.now()
    if state not in TRANSITIONS.get(CampaignState(campaign.state), set()):
        raise CampaignStateConflict(
            _("A %(current)s campaign cannot become %(state)s.") % {"current": campaign.state, "state": state},
            extra={"state": campaign.state},
        )
    if state == CampaignState.ACTIVE and campaign.ends_at <= now:
        raise CampaignStateConflict(_("This campaign's end has passed."), extra={"state": campaign.state})
    changed = Campaign.objects.filter(pk=campaign.pk, state=campaign.state).update(
        state=state,
        ended_at=now if state == CampaignState.ENDED else None,
        version=F("version") + 1,
        updated_at=now,
    )
    if not changed:
        raise CampaignStateConflict(_("The campaign changed meanwhile; read it again."))
    campaign.refresh_from_db()
    return campaign


def public_code_create(*, campaign: Campaign, code: str) -> CouponCode:
    try:
        with transaction.atomic():
            return CouponCode.objects.create(campaign=campaign, code=code.upper(), kind=CouponCode.Kind.PUBLIC)
    except IntegrityError as exc:
        raise CouponCodeTaken(_("This code already exists.")) from exc


def check_character(text: str, charset: str) -> str:
    """Luhn mod N over ``charset`` (dashes are left out before): catches any
    single wrong character and most swaps of neighbours."""
    n = len(charset)
    factor, total = 2, 0
    for char in reversed(text):
        addend = factor * charset.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return charset[(n - total % n) % n]


def code_job_create(*, campaign: Campaign, fields: dict[str, Any]) -> CodeGenerationJob:
    charset = fields.get("charset", "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    prefix = fields.get("prefix", "")
    if len(set(charset)) != len(charset) or len(charset) < 10:
        raise FieldInvalid("charset", _("At least 10 distinct characters."))
    if fields.get("check_character", True) and not set(prefix) <= set(charset) | {"-"}:
        raise FieldInvalid("prefix", _("With a check character, the prefix uses the charset's characters and dashes."))
    # The space must be far larger than the codes asked, or drawing unique codes stalls.
    if len(charset) ** fields.get("random_length", 10) < 100 * fields["requested"]:
        raise FieldInvalid("random_length", _("Too short for this many unique codes."))
    job = CodeGenerationJob.objects.create(campaign=campaign, **fields)
    from loyalty.tasks import generate_codes  # tasks import services: imported here, at use

    transaction.on_commit(lambda: generate_codes.delay(job.pk))
    return job


def codes_generate(*, job_id: int) -> CodeGenerationJob:
    """Generate what the job still lacks, batch after batch (each committed)."""
    job = CodeGenerationJob.objects.get(pk=job_id)
    if job.state == CodeGenerationJob.State.DONE:
        return job
    CodeGenerationJob.objects.filter(pk=job_id).update(state=CodeGenerationJob.State.RUNNING)
    generated = CouponCode.objects.filter(job_id=job_id).count()
    stalls = 0
    while generated < job.requested:
        wanted = min(GENERATION_BATCH, job.requested - generated)
        with transaction.atomic():
            CouponCode.objects.bulk_create(
                [_new_code(job) for _ in range(wanted)], ignore_conflicts=True, batch_size=GENERATION_BATCH
            )
            now_generated = CouponCode.objects.filter(job_id=job_id).count()
            CodeGenerationJob.objects.filter(pk=job_id).update(generated=now_generated, updated_at=timezone.now())
        stalls = stalls + 1 if now_generated == generated else 0
        generated = now_generated
        if stalls >= 3:
            CodeGenerationJob.objects.filter(pk=job_id).update(
                state=CodeGenerationJob.State.FAILED,
                error="The pattern's space is exhausted.",
                finished_at=timezone.now(),
            )
            return CodeGenerationJob.objects.get(pk=job_id)
    CodeGenerationJob.objects.filter(pk=job_id).update(
        state=CodeGenerationJob.State.DONE, generated=generated, finished_at=timezone.now()
    )
    return CodeGenerationJob.objects.get(pk=job_id)


def _new_code(job: CodeGenerationJob) -> CouponCode:
    body = job.prefix + "".join(secrets.choice(job.charset) for _ in range(job.random_length))
    text = body + check_character(body.replace("-", ""), job.charset) if job.check_character else body
    return CouponCode(
        campaign_id=job.campaign_id,
        code=text.upper(),
        kind=CouponCode.Kind.UNIQUE,
        usage_limit=job.usage_limit,
        job=job,
    )
