"""Campaigns (when, for whom, on what, how much, with what else), their
budgets as counter rows, and the coupon codes that carry them.

Budgets never overspend because nothing reads, adds and saves them: a
counter moves only in one guarded UPDATE (``loyalty/sql.py``) that checks
the limit, with a CHECK constraint (``used <= limit``) behind it."""

from django.db import models
from django.db.models import F, Q

from inventory.models import Location
from loyalty.models.program import Member, Program
from partners.models import Partner


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class AudienceKind(models.TextChoices):
    ALL = "all", "All members"
    LIST = "list", "Listed members"
    CATEGORY_BUYERS = "category_buyers", "Members who bought a category recently"


class BenefitKind(models.TextChoices):
    AMOUNT_OFF_BASKET = "amount_off_basket", "Amount off the basket"
    PERCENT_OFF_LINES = "percent_off_lines", "Percent off eligible lines"
    AMOUNT_OFF_PRODUCT = "amount_off_product", "Amount off an eligible product"
    POINTS_MULTIPLIER = "points_multiplier", "Points multiplier"


class CampaignOrigin(models.TextChoices):
    MANUAL = "manual", "Created by an operator"
    SLOW_MOVERS = "slow_movers", "Drafted for slow-moving stock"


ALL_WEEKDAYS = 0b1111111  # bit 0 Monday ... bit 6 Sunday (ISO weekday - 1)


class Campaign(models.Model):
    """An offer. Validity (``starts_at``/``ends_at`` instants, ``weekdays``
    and ``hours_from``/``hours_to`` local to the program's zone, ``stores``),
    audience, rule (minimum basket before discounts, eligible SKUs,
    categories, owning partner), one benefit, and stacking: an ``exclusive``
    campaign applies alone; others combine when each one's class is in the
    other's ``combinable_with``. Candidates are taken by ``priority``
    (higher first), then by id (older first)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="campaigns")
    owner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="loyalty_campaigns",
        help_text="The partner whose products the campaign promotes (it may read its analytics).",
    )  # fmt: skip
    name_fr = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=CampaignState.choices, default=CampaignState.DRAFT)
    origin = models.CharField(max_length=12, choices=CampaignOrigin.choices, default=CampaignOrigin.MANUAL)
    # Validity
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    weekdays = models.PositiveSmallIntegerField(default=ALL_WEEKDAYS, help_text="Bit 0 Monday ... bit 6 Sunday.")
    hours_from = models.TimeField(null=True, blank=True, help_text="Local time of day the offer starts.")
    hours_to = models.TimeField(null=True, blank=True, help_text="Local time of day it stops (exclusive).")
    stores = models.ManyToManyField(Location, blank=True, related_name="loyalty_campaigns")
    requires_code = models.BooleanField(default=True, help_text="Applies only with one of its codes.")
    # Audience
    audience = models.CharField(max_length=16, choices=AudienceKind.choices, default=AudienceKind.ALL)
    audience_members = models.ManyToManyField(Member, blank=True, related_name="listed_campaigns")
    audience_category = models.CharField(max_length=120, blank=True)
    audience_days = models.PositiveSmallIntegerField(default=90)
    audience_stores = models.ManyToManyField(Location, blank=True, related_name="+")
    # Rule
    min_basket_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    eligible_skus = models.JSONField(default=list, blank=True)
    eligible_categories = models.JSONField(default=list, blank=True)
    eligible_owner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Benefit
    benefit = models.CharField(max_length=20, choices=BenefitKind.choices)
    benefit_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    benefit_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    benefit_cap = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    benefit_max_units = models.PositiveIntegerField(default=1, help_text="Units an amount off a product applies to.")
    benefit_multiplier = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Stacking
    exclusive = models.BooleanField(default=False)
    stacking_class = models.SlugField(max_length=40, default="default")
    combinable_with = models.JSONField(default=list, blank=True)
    priority = models.IntegerField(default=0)
    # Slow movers: the figures the draft was made from, and the report's baseline.
    source_figures = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=CampaignState.values), name="loyalty_campaign_state_valid"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="loyalty_campaign_window_ordered"),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=ALL_WEEKDAYS), name="loyalty_campaign_weekdays_mask"
            ),
            models.CheckConstraint(
                condition=Q(hours_from__isnull=True, hours_to__isnull=True)
                | Q(hours_from__isnull=False, hours_to__isnull=False),
                name="loyalty_campaign_hours_both_or_none",
            ),
            models.CheckConstraint(
                condition=Q(min_basket_amount__gte=0), name="loyalty_campaign_min_basket_not_negative"
            ),
            models.CheckConstraint(condition=Q(benefit__in=BenefitKind.values), name="loyalty_campaign_benefit_valid"),
            models.CheckConstraint(
                condition=~Q(benefit__in=["amount_off_basket", "amount_off_product"])
                | Q(benefit_amount__isnull=False, benefit_amount__gt=0),
                name="loyalty_campaign_amount_benefit_has_amount",
            ),
            models.CheckConstraint(
                condition=~Q(benefit="percent_off_lines")
                | Q(benefit_percent__isnull=False, benefit_percent__gt=0, benefit_percent__lte=100),
                name="loyalty_campaign_percent_benefit_range",
            ),
            models.CheckConstraint(
                condition=~Q(benefit="points_multiplier")
                | Q(benefit_multiplier__isnull=False, benefit_multiplier__gt=1),
                name="loyalty_campaign_multiplier_above_one",
            ),
            models.CheckConstraint(
                condition=Q(benefit_cap__isnull=True) | Q(benefit_cap__gt=0), name="loyalty_campaign_cap_positive"
            ),
            models.CheckConstraint(condition=Q(benefit_max_units__gte=1), name="loyalty_campaign_max_units_positive"),
            models.CheckConstraint(
                condition=~Q(audience="category_buyers") | ~Q(audience_category=""),
                name="loyalty_campaign_category_audience_named",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "state", "ends_at"], name="loyalty_campaign_live_idx"),
        ]

    def __str__(self) -> str:
        return f"campaign {self.pk} {self.name_fr}"


class BudgetScope(models.TextChoices):
    TOTAL = "total", "In total"
    MEMBER = "member", "Per member"
    STORE = "store", "Per store"
    DAY = "day", "Per day (program's zone)"


class CampaignBudget(models.Model):
    """A limit of a campaign: a count of redemptions and/or an amount of
    discount, in total or per member, store or local day. Its counters
    (``BudgetCounter``) are created on first use, one per scope key."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="budgets")
    scope = models.CharField(max_length=8, choices=BudgetScope.choices)
    limit_count = models.BigIntegerField(null=True, blank=True)
    limit_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "scope"], name="loyalty_budget_one_per_scope"),
            models.CheckConstraint(condition=Q(scope__in=BudgetScope.values), name="loyalty_budget_scope_valid"),
            models.CheckConstraint(
                condition=Q(limit_count__isnull=False) | Q(limit_amount__isnull=False), name="loyalty_budget_has_limit"
            ),
            models.CheckConstraint(
                condition=Q(limit_count__isnull=True) | Q(limit_count__gte=0), name="loyalty_budget_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(limit_amount__isnull=True) | Q(limit_amount__gte=0),
                name="loyalty_budget_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"budget {self.scope} of {self.campaign_id}"


class BudgetCounter(models.Model):
    """What one scope key of a budget has used: ``key`` is "" for the total,
    ``m<member id>``, ``s<store id>`` or ``d<local date>``. The limits are
    copied from the budget so that the CHECK constraints can hold the bound
    on the row itself. Reserved and confirmed redemptions both count."""

    budget = models.ForeignKey(CampaignBudget, on_delete=models.CASCADE, related_name="counters")
    key = models.CharField(max_length=24, blank=True)
    limit_count = models.BigIntegerField(null=True, blank=True)
    limit_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    used_count = models.BigIntegerField(default=0)
    used_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Late till tickets refused because this counter was full (counted, not lost silently).
    refused_late = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["budget", "key"], name="loyalty_counter_budget_key_unique"),
            models.CheckConstraint(
                condition=Q(used_count__gte=0, used_amount__gte=0, refused_late__gte=0),
                name="loyalty_counter_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(limit_count__isnull=True) | Q(used_count__lte=F("limit_count")),
                name="loyalty_counter_count_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(limit_amount__isnull=True) | Q(used_amount__lte=F("limit_amount")),
                name="loyalty_counter_amount_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"counter {self.budget_id}/{self.key or 'total'}: {self.used_count} {self.used_amount}"


class CodeGenerationJob(models.Model):
    """A bulk generation of unique codes (a Celery job), its pattern and its
    progress: ``generated`` grows batch by batch until it reaches ``requested``."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="generation_jobs")
    requested = models.PositiveIntegerField()
    generated = models.PositiveIntegerField(default=0)
    prefix = models.CharField(max_length=16, blank=True)
    charset = models.CharField(max_length=64, default="ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    random_length = models.PositiveSmallIntegerField(default=10)
    check_character = models.BooleanField(default=True)
    usage_limit = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(requested__gte=1, requested__lte=1_000_000), name="loyalty_job_requested_range"
            ),
            models.CheckConstraint(condition=Q(generated__lte=F("requested")), name="loyalty_job_generated_bounded"),
            models.CheckConstraint(
                condition=Q(random_length__gte=6, random_length__lte=32), name="loyalty_job_length_range"
            ),
            models.CheckConstraint(condition=Q(usage_limit__gte=1), name="loyalty_job_usage_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.generated}/{self.requested} {self.state}"


class CouponCode(models.Model):
    """A code a shopper or a till enters. Public codes serve many shoppers
    (``usage_limit`` null: only the campaign's budgets bound them); unique
    codes come from a generation job, each with its own ``usage_limit``,
    and may be assigned to one member. Codes are stored upper-case and are
    unique across programs, so a till needs nothing but the code."""

    class Kind(models.TextChoices):
        PUBLIC = "public", "Public"
        UNIQUE = "unique", "Unique"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    used_count = models.PositiveIntegerField(default=0)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE, related_name="coupons")
    job = models.ForeignKey(
        CodeGenerationJob, null=True, blank=True, on_delete=models.CASCADE, related_name="codes", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9-]{3,64}$"), name="loyalty_code_shape"),
            models.CheckConstraint(condition=Q(kind__in=["public", "unique"]), name="loyalty_code_kind_valid"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(used_count__lte=F("usage_limit")),
                name="loyalty_code_used_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(kind="public", member__isnull=True) | Q(kind="unique", usage_limit__isnull=False),
                name="loyalty_code_kind_rules",
            ),
        ]
        indexes = [models.Index(fields=["member"], name="loyalty_code_member_idx", condition=Q(member__isnull=False))]

    def __str__(self) -> str:
        return self.code
