"""Public holidays of a store's country and region, from the ``holidays``
package (maintained calendars of some 150 countries and their regions, no
network): the notifier keeps holidays out of its baselines and does not
judge a holiday against ordinary days, because a store's traffic on 1 May,
14 July or Labor Day is nothing like an ordinary day.

The region is the store's ``subdivision`` (inventory's Location), as the
package names it: "CA" for California, "57" for Moselle. A country the
package does not know gets no holidays (its days are judged as ordinary
ones); a store's own closures, events and local holidays are its calendar
(``footfall.models.StoreCalendarDay``)."""

import datetime as dt
import functools

import holidays


@functools.lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str, year: int) -> dict[dt.date, str]:
    """Date -> name of the public holidays of ``year``."""
    try:
        calendar = holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=year)
    except NotImplementedError:  # a country, or a region of it, the package does not know
        return {}
    return dict(calendar.items())


def is_public_holiday(country: str, day: dt.date, subdivision: str = "") -> bool:
    return day in public_holidays(country, subdivision, day.year)
