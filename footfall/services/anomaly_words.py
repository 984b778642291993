"""An anomaly in plain words, as a store manager reads it in the report:
when (store-local times, with the UTC offsets on a day the clocks change)
and what happened, for example "Tue 3 Mar 14:00–17:00" and "the door counter
counted nobody while the store was open (usually about 230 people)".

One function per anomaly kind, keyed by the kind's stored string (kinds
added by the notifier later get their words here; a kind without words falls
back to its label, never to an error). Each reads the stored row only:
``metric``, ``actual``, ``expected`` (the usual level, summed over the
anomaly's hours), ``expected_low`` / ``expected_high`` and ``details``.
Statistics (median, spread, MAD) stay out of the words: they are in the
anomaly's ``method`` for whoever investigates."""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from footfall.models import Anomaly, AnomalyKind, SensorKind
from footfall.services.report_locale import ReportLocale
from inventory import local_time

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnomalyWords:
    when: str
    counter: str  # the sensor's name
    code: str  # the sensor's code
    what: str

    @property
    def sentence(self) -> str:
        return _("%(when)s: %(what)s") % {"when": self.when, "what": self.what}


def _counter(anomaly: Anomaly) -> str:
    kind = anomaly.sensor.kind
    if kind == SensorKind.ENTRANCE:
        return _("the door counter")
    if kind == SensorKind.WINDOW:
        return _("the window counter")
    return _("the in-store counter")


# ------------------------------------------------------------------ when


def _offset(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _clocks_change(day: dt.date, tz: zoneinfo.ZoneInfo) -> bool:
    start, end = local_time.days_span(day, day, tz)
    return start.astimezone(tz).utcoffset() != end.astimezone(tz).utcoffset()


def _is_midnight(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    return moment == local_time.day_start(local_time.local_date(moment, tz), tz)


def anomaly_when(start: dt.datetime, end: dt.datetime, tz: zoneinfo.ZoneInfo, fmt: ReportLocale) -> str:
    """ "Tue 3 Mar 14:00–17:00"; a whole day "Tue 3 Mar"; across days "Tue 3
    Mar 19:00 – Wed 4 Mar 10:00". On a day the clocks change each time
    carries its offset (the repeated hour exists twice)."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    first = local_start.date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    if _is_midnight(start, tz) and _is_midnight(end, tz):
        days = (
            fmt.day(first)
            if first == last
            else _("%(first)s – %(last)s")
            % {
                "first": fmt.day(first),
                "last": fmt.day(last),
            }
        )
        changed = [day for day in _days(first, last) if _clocks_change(day, tz)]
        if changed:
            return _("%(days)s (clocks changed on %(day)s)") % {"days": days, "day": fmt.day(changed[0])}
        return days
    dst = any(_clocks_change(day, tz) for day in _days(first, last))

    def clock(moment: dt.datetime) -> str:
        return f"{fmt.clock(moment)} ({_offset(moment)})" if dst else fmt.clock(moment)

    if first == local_end.date() or (first == last and _is_midnight(end, tz)):
        return f"{fmt.day(first)} {clock(local_start)}–{clock(local_end)}"
    return f"{fmt.day(first)} {clock(local_start)} – {fmt.day(local_end.date())} {clock(local_end)}"


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


# ------------------------------------------------------------------ what, per kind


def _usual(anomaly: Anomaly, fmt: ReportLocale) -> str:
    return fmt.about(anomaly.expected or 0.0)


def _missing_data(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    # metric covered_seconds: actual = seconds covered, expected = seconds the hours last
    span = (anomaly.period_end - anomaly.period_start).total_seconds()
    missing = (anomaly.expected if anomaly.expected is not None else span) - anomaly.actual
    return _("%(counter)s sent no data for %(duration)s while the store was open") % {
        "counter": _counter(anomaly),
        "duration": fmt.duration(missing),
    }


def _zero_counts(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _("%(counter)s counted nobody while the store was open (usually about %(usual)s people)") % {
        "counter": _counter(anomaly),
        "usual": _usual(anomaly, fmt),
    }


def _closed_hours_counts(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _(
        "%(counter)s counted %(actual)s people coming in while the store was closed (usually about %(usual)s): "
        "staff, deliveries, or a counter fault"
    ) % {"counter": _counter(anomaly), "actual": fmt.count(anomaly.actual), "usual": _usual(anomaly, fmt)}


def _spike(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _("%(counter)s counted %(actual)s people, far more than usual (about %(usual)s)") % {
        "counter": _counter(anomaly),
        "actual": fmt.count(anomaly.actual),
        "usual": _usual(anomaly, fmt),
    }


def _drop(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _("%(counter)s counted only %(actual)s people, far fewer than usual (about %(usual)s)") % {
        "counter": _counter(anomaly),
        "actual": fmt.count(anomaly.actual),
        "usual": _usual(anomaly, fmt),
    }


def _reversed_direction(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _(
        "%(counter)s seems to count in and out the wrong way round: people were counted leaving at the hours they "
        "usually arrive (check the counter's direction setting)"
    ) % {"counter": _counter(anomaly)}


def _exits_exceed_entries(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    # metric out: actual = exits of the day, expected = its entries
    return _("%(counter)s counted %(exits)s people leaving but only %(entries)s coming in over the day") % {
        "counter": _counter(anomaly),
        "exits": fmt.count(anomaly.actual),
        "entries": fmt.count(anomaly.expected or 0.0),
    }


def _share(anomaly: Anomaly) -> float:
    share = anomaly.details.get("share_of_usual")
    if share is not None:
        return float(share)
    return anomaly.actual / anomaly.expected if anomaly.expected else 0.0


def _day_volume(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo, template: str) -> str:
    day = anomaly.details.get("day")
    weekday = dt.date.fromisoformat(day) if isinstance(day, str) else local_time.local_date(anomaly.period_start, tz)
    usual = anomaly.details.get("usual_day", anomaly.expected)
    return template % {
        "counter": _counter(anomaly),
        "actual": fmt.count(anomaly.actual),
        "share": fmt.percent(_share(anomaly)),
        "weekday": fmt.weekday(weekday),
        "usual": fmt.about(float(usual or 0.0)),
    }


def _low_day_volume(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    template = _(
        "%(counter)s counted only %(actual)s people over the whole day, %(share)s of a usual %(weekday)s "
        "(about %(usual)s)"
    )
    return _day_volume(anomaly, fmt, tz, template)


def _high_day_volume(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    template = _(
        "%(counter)s counted %(actual)s people over the whole day, %(share)s of a usual %(weekday)s (about %(usual)s)"
    )
    return _day_volume(anomaly, fmt, tz, template)


def _stuck_counter(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    hours = anomaly.details.get("hours")
    seconds = float(hours) * 3600 if hours is not None else (anomaly.period_end - anomaly.period_start).total_seconds()
    return _("%(counter)s kept sending the same figure for %(duration)s: it looks frozen") % {
        "counter": _counter(anomaly),
        "duration": fmt.duration(seconds),
    }


def _level_shift(anomaly: Anomaly, fmt: ReportLocale, tz: zoneinfo.ZoneInfo) -> str:
    return _(
        "%(counter)s counted %(share)s of its usual level throughout: a lasting change, not a one-off "
        "(was the counter moved, or the entrance changed?)"
    ) % {"counter": _counter(anomaly), "share": fmt.percent(_share(anomaly))}


WORDS: dict[str, Callable[[Anomaly, ReportLocale, zoneinfo.ZoneInfo], str]] = {
    "missing_data": _missing_data,
    "zero_counts": _zero_counts,
    "closed_hours_counts": _closed_hours_counts,
    "spike": _spike,
    "drop": _drop,
    "reversed_direction": _reversed_direction,
    "exits_exceed_entries": _exits_exceed_entries,
    "low_day_volume": _low_day_volume,
    "high_day_volume": _high_day_volume,
    "stuck_counter": _stuck_counter,
    "level_shift": _level_shift,
}


def kind_label(kind: str) -> str:
    """The kind's label (translated where the catalogue has it), or the kind
    itself in words for one this version does not know."""
    labels: dict[str, Any] = dict(AnomalyKind.choices)
    return _(str(labels[kind])) if kind in labels else kind.replace("_", " ").capitalize()


def anomaly_words(anomaly: Anomaly, tz: zoneinfo.ZoneInfo, fmt: ReportLocale) -> AnomalyWords:
    """The anomaly as the report shows it, in the active language."""
    words = WORDS.get(anomaly.kind)
    what = kind_label(anomaly.kind)
    if words is not None:
        try:
            what = words(anomaly, fmt, tz)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Details written by another version of the notifier: the label
            # still tells the manager what was found.
            logger.warning("anomaly %s (%s): details not understood", anomaly.pk, anomaly.kind, exc_info=True)
    when = anomaly_when(anomaly.period_start, anomaly.period_end, tz, fmt)
    return AnomalyWords(when, anomaly.sensor.name, anomaly.sensor.code, what)
