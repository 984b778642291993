"""Footfall: people-counting sensors of the stores, their count intervals,
the sales they are crossed with (till sales intervals and collected
click-and-collect orders), the anomalies the notifier finds and who receives
the emailed reports.

Sizes: a network of 1,800 stores with two sensors each reporting every 15
minutes writes 10.4 M count intervals a month. ``CountInterval`` therefore has
no surrogate key (its primary key is ``(sensor, start)``, which is also what a
re-sent interval replaces), and ``CountDay`` keeps one row per sensor and
store-local day so network-wide and monthly figures read thousands of rows
instead of millions."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from inventory.models import Location
from partners.models import ApiClient


class SensorKind(models.TextChoices):
    ENTRANCE = "entrance", "Entrance (people in and out)"
    WINDOW = "window", "Window (passers-by in front of the store)"
    ZONE = "zone", "Zone inside the store"


class Sensor(models.Model):
    """A counting line of a sensor box at a store. ``code`` is how the
    canonical and CSV formats name it; ``device_serial`` + ``channel`` is how a
    device names it (Xovis: serial number and logic id). For a window sensor
    ``in`` and ``out`` are the two walking directions along the street, so
    passers-by = in + out.

    Counts, daily totals and anomalies point to the sensor, not to a store:
    a sensor's store is where its whole history is read. So a sensor with
    history never changes store (``footfall.services.sensors``); a device
    moved to another store feeds a new sensor there, and the retired one
    keeps its past at its own store."""

    store = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="footfall_sensors")
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=SensorKind.choices)
    device = models.ForeignKey(
        ApiClient,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="When set, only this device client may write the sensor; otherwise any device of the store.",
    )
    device_serial = models.CharField(max_length=64, blank=True, help_text="Serial number the device reports.")
    channel = models.CharField(max_length=32, blank=True, help_text="Logic, line or rule id on the device.")
    is_active = models.BooleanField(default=True, help_text="False once retired: its counts stay, no new ones.")
    version = models.PositiveIntegerField(default=1, db_default=1, help_text="Grows with every change (the ETag).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            # Active sensors only: a retired sensor keeps the serial and
            # channel its counts came from while the device, moved, feeds
            # the sensor that replaced it.
            models.UniqueConstraint(
                fields=["device_serial", "channel"],
                condition=~Q(device_serial="") & Q(is_active=True),
                name="footfall_sensor_active_device_channel_unique",
            ),
        ]
        indexes = [models.Index(fields=["store", "kind"], name="footfall_sensor_store_kind")]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"


class CountInterval(models.Model):
    """Counts of one sensor over ``[start, end)``. Re-sending an interval
    replaces it (the primary key is the sensor and the start). ``samples`` /
    ``samples_expected`` is the completeness the device reports, both null
    when it says nothing. ``in_cumulative`` / ``out_cumulative`` keep the raw
    readings of devices that send running totals, so the next batch can be
    turned into deltas."""

    pk = models.CompositePrimaryKey("sensor_id", "start")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    in_count = models.IntegerField()
    out_count = models.IntegerField()
    samples = models.SmallIntegerField(null=True, blank=True)
    samples_expected = models.SmallIntegerField(null=True, blank=True)
    in_cumulative = models.BigIntegerField(null=True, blank=True)
    out_cumulative = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(in_count__gte=0, out_count__gte=0), name="footfall_count_not_negative"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start"), end__lte=F("start") + dt.timedelta(days=1)),
                name="footfall_count_interval_length",
            ),
            models.CheckConstraint(
                condition=Q(samples__isnull=True, samples_expected__isnull=True)
                | Q(samples__gte=0, samples_expected__gt=0, samples__lte=F("samples_expected")),
                name="footfall_count_samples_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sensor_id}@{self.start:%Y-%m-%dT%H:%M}Z in={self.in_count} out={self.out_count}"


class CountDay(models.Model):
    """Totals of one sensor over one store-local day, rebuilt from
    ``CountInterval`` by every ingest that touches the day (same transaction,
    under the sensor's ingest lock). ``covered_seconds`` is the time covered
    by received intervals weighted by their completeness."""

    pk = models.CompositePrimaryKey("sensor_id", "day")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    in_total = models.BigIntegerField()
    out_total = models.BigIntegerField()
    covered_seconds = models.FloatField()
    intervals = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="footfall_countday_day_idx")]

    def __str__(self) -> str:
        return f"{self.sensor_id}@{self.day}: in={self.in_total} out={self.out_total}"


class SalesInterval(models.Model):
    """Till sales of a store over ``[start, end)``: tickets (net of voids)
    and net revenue. ``register`` tells tills of one store apart so each can
    post its own figures; re-sending replaces."""

    pk = models.CompositePrimaryKey("store_id", "register", "start")
    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    register = models.CharField(max_length=40, blank=True, default="")
    start = models.DateTimeField()
    end = models.DateTimeField()
    tickets = models.IntegerField()
    revenue_amount = models.DecimalField(max_digits=14, decimal_places=2)
    revenue_currency = models.CharField(max_length=3)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(tickets__gte=0), name="footfall_sales_tickets_not_negative"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start"), end__lte=F("start") + dt.timedelta(days=1)),
                name="footfall_sales_interval_length",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "start"], name="footfall_sales_store_start"),
            models.Index(fields=["start"], name="footfall_sales_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.register}@{self.start:%Y-%m-%dT%H:%M}Z tickets={self.tickets}"


class CollectedOrderSale(models.Model):
    """A click-and-collect order collected at a store, as a sale: one ticket
    of the order's total at the instant it was collected. Copied from
    commerce (``commerce.selectors.collected_orders``) when footfall reads the
    ``order.status_changed`` event of the collection from the events feed, so
    a store-day's sales can be rebuilt without reading commerce's tables."""

    # Commerce's order id, no foreign key: a sale stays a sale of its day
    # whatever becomes of the order row later.
    order_id = models.BigIntegerField(primary_key=True)
    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    collected_at = models.DateTimeField()
    revenue_amount = models.DecimalField(max_digits=12, decimal_places=2)
    revenue_currency = models.CharField(max_length=3)

    class Meta:
        indexes = [models.Index(fields=["store", "collected_at"], name="footfall_collected_store_at")]

    def __str__(self) -> str:
        return f"order {self.order_id} collected at {self.store_id} {self.collected_at:%Y-%m-%dT%H:%M}Z"


class EventFeedPosition(models.Model):
    """How far a footfall reader of the partners events feed has read
    (``txid``, ``event_id``: the feed's order, which a late commit never
    passes). One row per reader."""

    reader = models.CharField(max_length=40, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.reader} at {self.txid}-{self.event_id}"


class SalesDay(models.Model):
    """Sales of one store over one store-local day (per currency): its till
    sales intervals and its collected click-and-collect orders. Rebuilt from
    ``SalesInterval`` and ``CollectedOrderSale`` whenever either changes on
    the day (same transaction, under the store's sales lock), so KPIs over
    the network read one row per store and day."""

    pk = models.CompositePrimaryKey("store_id", "day", "revenue_currency")
    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    revenue_currency = models.CharField(max_length=3)
    tickets = models.BigIntegerField()
    revenue_amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["day"], name="footfall_salesday_day_idx")]

    def __str__(self) -> str:
        return f"{self.store_id}@{self.day}: {self.tickets} tickets, {self.revenue_amount} {self.revenue_currency}"


class AnomalyKind(models.TextChoices):
    MISSING_DATA = "missing_data", "Missing data during opening hours"
    ZERO_COUNTS = "zero_counts", "Zero counts during opening hours"
    CLOSED_HOURS_COUNTS = "closed_hours_counts", "Entries while the store is closed"
    SPIKE = "spike", "Far more traffic than usual"
    DROP = "drop", "Far less traffic than usual"
    REVERSED_DIRECTION = "reversed_direction", "Entries and exits look swapped"
    EXITS_EXCEED_ENTRIES = "exits_exceed_entries", "Exits far above entries"
    LOW_DAY_VOLUME = "low_day_volume", "A day far below the usual for that weekday"
    STUCK_COUNTER = "stuck_counter", "The same counts repeated hour after hour"
    LEVEL_SHIFT = "level_shift", "Traffic moved to another level for several days"


class AnomalyStatus(models.TextChoices):
    OPEN = "open", "Open (the fault is ongoing)"
    RESOLVED = "resolved", "Resolved (a later period looked normal)"


class Anomaly(models.Model):
    """A fault the notifier found on a sensor over ``[period_start,
    period_end)``: what was measured (``metric``, ``actual``), what was
    expected (``expected`` within ``expected_low`` .. ``expected_high``) and
    how it was judged (``method``). An ongoing fault extends its open anomaly
    instead of opening another one: at most one open anomaly per sensor and kind."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="anomalies")
    kind = models.CharField(max_length=24, choices=AnomalyKind.choices)
    status = models.CharField(max_length=12, choices=AnomalyStatus.choices, default=AnomalyStatus.OPEN)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    metric = models.CharField(max_length=40)
    actual = models.FloatField()
    expected = models.FloatField(null=True, blank=True)
    expected_low = models.FloatField(null=True, blank=True)
    expected_high = models.FloatField(null=True, blank=True)
    method = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sensor", "kind"], condition=Q(status="open"), name="footfall_anomaly_one_open_per_kind"
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="footfall_anomaly_period"),
        ]
        indexes = [models.Index(fields=["sensor", "period_end"], name="footfall_anom_sensor_end_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.sensor_id} {self.period_start:%Y-%m-%d %H:%M}Z ({self.status})"


class CalendarDayKind(models.TextChoices):
    CLOSED = "closed", "Closed all day (not judged)"
    EVENT = "event", "An event (not judged as a spike, kept out of the usual)"
    HOLIDAY = "holiday", "A local holiday (judged like a public holiday)"


class StoreCalendarDay(models.Model):
    """A store-local day that is not an ordinary one, as the store or the
    operator knows it: the store was closed (inventory, works, strike), held
    an event (a sale, a signing) or had a local holiday the public calendar
    does not know. The notifier does not judge closed days, does not raise
    spikes or day-volume alarms on event days, and keeps all three out of the
    usual traffic it compares with."""

    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="footfall_calendar_days")
    day = models.DateField()
    kind = models.CharField(max_length=8, choices=CalendarDayKind.choices)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "day"], name="footfall_calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}@{self.day}: {self.kind}"


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (Monday to Sunday)"
    MONTHLY = "monthly", "Monthly (calendar month)"


class ReportRecipient(models.Model):
    """Who receives a store's footfall reports by email, and in which
    language (empty: the store's, French for a store in France, English
    elsewhere: ``footfall.services.reports.recipient_language``)."""

    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="footfall_report_recipients")
    email = models.EmailField()
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text="Language of the reports; empty: the store's (French in France, English elsewhere).",
    )
    weekly = models.BooleanField(default=True)
    monthly = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "email"], name="footfall_report_recipient_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} for {self.store_id}"


class ReportDispatch(models.Model):
    """A report that was sent: the scheduled task sends each store's report
    for a period once, whatever how often it runs."""

    store = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=8, choices=ReportFrequency.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "frequency", "period_start"], name="footfall_report_dispatch_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.frequency} report {self.period_start} for {self.store_id}"
