"""The stores' own calendars: days the notifier must not judge as ordinary
(``StoreCalendarDay``: closed, an event, a local holiday). The notifier reads
them on its next run (``footfall.services.anomalies.store_calendar``)."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from footfall.errors import CalendarDayTaken
from footfall.models import StoreCalendarDay
from inventory.models import Location


def calendar_day_create(*, store: Location, day: dt.date, kind: str, label: str = "") -> StoreCalendarDay:
    """One day of ``store``'s calendar; a day already there is a 409 (delete
    it first to say something else of it)."""
    try:
        with transaction.atomic():
            return StoreCalendarDay.objects.create(store=store, day=day, kind=kind, label=label)
    except IntegrityError:
        raise CalendarDayTaken(
            _("%(day)s is already in the calendar of %(store)s.") % {"day": day.isoformat(), "store": store.code}
        ) from None


def calendar_day_delete(*, calendar_day: StoreCalendarDay) -> None:
    with transaction.atomic():
        StoreCalendarDay.objects.filter(pk=calendar_day.pk).delete()
