import calendar
import datetime

from django.core.exceptions import ValidationError

# Dates outside this range are typing mistakes (and would overflow date arithmetic).
EARLIEST = datetime.date(1700, 1, 1)
LATEST = datetime.date(2300, 12, 31)


def validate_in_range(day: datetime.date | None) -> None:
    """The validator of every date field the registry is given: EARLIEST..LATEST. On the
    model fields, so the admin, the API's serializers (derived from them), the import and
    the services all refuse the same dates with the same message."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValidationError(
            "Must be between %(earliest)s and %(latest)s.",
            code="date_out_of_range",
            params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )
