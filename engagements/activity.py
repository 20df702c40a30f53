"""Which provisions are used: each provision's last activity and the **dormant** rule, in
one place for the agreement page ("Activities under this agreement") and the API's
``provisions/?dormant=true|false``.

- An activity under a provision is a **completed** engagement linked to it that the reader
  may see (an engagement above their clearance is neither shown nor counted: to them, a
  provision used only by a secret exercise is dormant).
- Its **last activity** is the latest end date of those engagements.
- It is **dormant** on a day when none of them ended in the last
  ``settings.ENGAGEMENT_DORMANT_YEARS`` years (default 3): on or after the same day that
  many years before (29 February counts from 28 February in a year without one). A
  provision that never saw a completed engagement is dormant.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from .choices import EngagementStatus
from .models import Engagement


def dormant_years() -> int:
    return settings.ENGAGEMENT_DORMANT_YEARS


def active_since(today: datetime.date | None = None) -> datetime.date:
    """The first day that still counts as "in the last N years" on ``today``."""
    today = today or timezone.localdate()
    years = dormant_years()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February, into a year without one
        return today.replace(year=today.year - years, day=28)


def completed_engagements(user) -> QuerySet[Engagement]:
    """The completed engagements ``user`` may see: the activities the rule counts."""
    return Engagement.objects.visible_to(user).filter(
        status=EngagementStatus.COMPLETED, ends_on__isnull=False
    )


def _under_provision(user):
    return completed_engagements(user).filter(provisions=OuterRef("pk")).order_by()


def with_activity(provisions: QuerySet, user, today: datetime.date | None = None) -> QuerySet:
    """``provisions`` annotated with ``last_activity_on`` (a date or None) and ``dormant``
    (a boolean), two subqueries in the same query whatever the number of rows."""
    since = active_since(today)
    last = _under_provision(user).order_by("-ends_on").values("ends_on")[:1]
    recent = _under_provision(user).filter(ends_on__gte=since)
    return provisions.annotate(last_activity_on=Subquery(last), dormant=~Exists(recent))


def filter_dormant(
    provisions: QuerySet, user, dormant: bool, today: datetime.date | None = None
) -> QuerySet:
    """The dormant provisions of ``provisions`` (``dormant`` True) or the others."""
    recent = _under_provision(user).filter(ends_on__gte=active_since(today))
    return provisions.filter(~Exists(recent) if dormant else Exists(recent))
