"""Calendar arithmetic shared by learners and, through it, certification."""

import calendar
import datetime


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """`moment` plus whole calendar months, clamped to the month's end (31 Jan + 1 = 28 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def easter_sunday(year: int) -> datetime.date:
    """Gregorian Easter (the anonymous Gregorian algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def public_holidays(year: int) -> set[datetime.date]:
    """France's eleven national public holidays (Code du travail L3133-1). Alsace-Moselle's
    two more and overseas abolition days are local: a session there starting or ending on
    one keeps it (TrainingSession.training_days)."""
    easter = easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [easter + datetime.timedelta(days=n) for n in (1, 39, 50)]  # Monday, Ascension, Whit
    return {datetime.date(year, month, day) for month, day in fixed} | set(moving)
