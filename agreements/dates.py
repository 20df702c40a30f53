import calendar
import datetime

# Dates outside this range are typing mistakes (and would overflow date arithmetic).
EARLIEST = datetime.date(1700, 1, 1)
LATEST = datetime.date(2300, 12, 31)


def out_of_range(day: datetime.date | None) -> str:
    """An error message for a date outside EARLIEST..LATEST, or ''."""
    if day is not None and not EARLIEST <= day <= LATEST:
        return f"Must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
    return ""


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )
