"""How a store report writes numbers, money, percentages, dates, times and
durations for its reader: Babel's CLDR rules for the reader's language in
the store's country (``fr`` in France is ``fr_FR``: "7 297", "47 968,06 €",
"25,3 %", "mar. 3 mars"; ``en`` in France is ``en_FR``, English words with the
country's number conventions; ``en`` in Britain "7,297", "€47,968.06").

The one place the report formats a figure, so the HTML, the PDF, the text
part and the charts never mix conventions. Words around the figures are
Django translations (``gettext``) of the language active when they are
written (``translation.override``)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval, format_time
from babel.numbers import format_currency, format_decimal, parse_pattern
from django.utils.translation import gettext as _

from gateway.api.money import money_round


def babel_locale(language: str, country: str | None) -> Locale:
    """The CLDR locale of ``language`` in ``country`` (``fr``, ``FR`` ->
    ``fr_FR``), or of the language alone where CLDR has no such pair."""
    if country:
        try:
            return Locale.parse(f"{language}_{country.upper()}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(language)


@dataclass(frozen=True)
class ReportLocale:
    """Formatting of one report language for one store."""

    language: str
    locale: Locale

    @classmethod
    def of(cls, language: str, country: str | None) -> "ReportLocale":
        return cls(language, babel_locale(language, country))

    @cached_property
    def _percent_pattern(self) -> Any:
        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        pattern.frac_prec = (1, 1)  # 25.3 %: one decimal tells weeks apart, two would be noise
        return pattern

    def count(self, value: int | float) -> str:
        """A whole number of people, tickets: "7 297" (fr), "7,297" (en_GB)."""
        return format_decimal(round(value), locale=self.locale)

    def decimal(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), format=f"#,##0.{'0' * digits}", locale=self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        """Rounded half-up to the currency's minor unit (gateway.api.money),
        then written the locale's way: "47 968,06 €", "€47,968.06"."""
        return format_currency(money_round(amount, currency), currency, locale=self.locale)

    def percent(self, ratio: float) -> str:
        """0.2534 -> "25,3 %" (fr), "25.3%" (en_GB)."""
        return str(self._percent_pattern.apply(ratio, self.locale))

    def whole_percent(self, ratio: float) -> str:
        """0.515 -> "51 %" (fr), "51%" (en_GB): a share said in passing.
        Rounded down, so 89.6 % never reads as a complete-looking 90 %."""
        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        return str(pattern.apply(int(round(ratio * 100, 6)) / 100, self.locale))

    def change(self, ratio: float) -> str:
        """A relative change with its sign: +0.59 -> "+59,0 %"."""
        shown = round(ratio, 3)  # the one decimal shown of a percentage
        return ("+" if shown > 0 else "") + self.percent(shown if shown else 0.0)

    def points(self, difference: float) -> str:
        """A change of a rate in percentage points: +0.023 -> "+2,3 pts"."""
        value = round(difference * 100, 1) or 0.0  # never "-0.0"
        sign = "+" if value > 0 else ""
        return _("%(value)s pts") % {"value": sign + self.decimal(value, 1)}

    def day(self, day: dt.date) -> str:
        """ "Tue 3 Mar", "mar. 3 mars"."""
        return format_date(day, "EEE d MMM", locale=self.locale)

    def day_with_year(self, day: dt.date) -> str:
        return format_date(day, "EEE d MMM y", locale=self.locale)

    def short_day(self, day: dt.date) -> str:
        """A chart's tick: "Tue 3", "mar. 3"."""
        return format_date(day, "EEE d", locale=self.locale)

    def weekday(self, day: dt.date) -> str:
        """ "Tuesday", "mardi"."""
        return format_date(day, "EEEE", locale=self.locale)

    def month(self, first: dt.date) -> str:
        """ "May 2026", "mai 2026"."""
        return format_date(first, "LLLL y", locale=self.locale)

    def days(self, first: dt.date, last: dt.date) -> str:
        """A span of days: "4–10 May 2026", "27 avr. – 3 mai 2026"."""
        return format_interval(first, last, "yMMMd", locale=self.locale)

    def clock(self, moment: dt.datetime | dt.time) -> str:
        """A wall-clock time, 24 hours: "14:00"."""
        return format_time(moment, "HH:mm", locale=self.locale)

    def duration(self, seconds: float) -> str:
        """Hours and minutes, never seconds: "3 h 15 min", "45 min", "2 h"."""
        minutes = max(round(seconds / 60), 0)
        hours, minutes = divmod(minutes, 60)
        if hours and minutes:
            words = _("%(hours)s h %(minutes)s min") % {"hours": self.count(hours), "minutes": minutes}
        elif hours:
            words = _("%(hours)s h") % {"hours": self.count(hours)}
        else:
            words = _("%(minutes)s min") % {"minutes": minutes}
        return words.replace(" ", "\u00a0")  # one unbreakable piece: never "2" at a line's end, "h" on the next

    def about(self, value: float) -> str:
        """A usual level as a person says it: two significant figures from
        100 up (234 -> "230"), whole numbers below."""
        if abs(value) >= 100:
            digits = len(str(int(abs(value)))) - 2
            return self.count(round(value, -digits))
        return self.count(value)
