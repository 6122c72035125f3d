"""Calendar arithmetic shared by learners and, through it, certification."""

import calendar
import datetime


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """`moment` plus whole calendar months, clamped to the month's end (31 Jan + 1 = 28 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
