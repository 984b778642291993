"""Public holidays, computed (no data file, no network): the notifier keeps
holidays out of its baselines and does not judge a holiday against normal
days, because a store's traffic on 1 May or Ascension Day is nothing like an
ordinary Thursday.

Only France is known (the stores of the network are French); a store in
another country gets no holidays, which makes the notifier judge its
holidays like ordinary days."""

import datetime as dt
import functools


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter: the anonymous algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


# Code du travail, article L3133-1: the eleven public holidays of France.
_FR_FIXED = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
# Easter Monday, Ascension Day (Thursday, +39), Whit Monday (+50).
_FR_FROM_EASTER = [1, 39, 50]


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> frozenset[dt.date]:
    if country.upper() != "FR":
        return frozenset()
    easter = easter_sunday(year)
    fixed = {dt.date(year, month, day) for month, day in _FR_FIXED}
    moving = {easter + dt.timedelta(days=offset) for offset in _FR_FROM_EASTER}
    return frozenset(fixed | moving)


def is_public_holiday(country: str, day: dt.date) -> bool:
    return day in public_holidays(country, day.year)
