"""Demo users: one per access group, each with a different clearance."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .choices import Classification
from .groups import ANALYSTS, EDITORS, POLICY_STAFF, REGISTRY_ADMINS

DEMO_USERS = (
    # username, group, clearance, staff (admin site access)
    ("policy", POLICY_STAFF, Classification.UNCLASSIFIED, False),
    ("analyst", ANALYSTS, Classification.SECRET, False),
    ("editor", EDITORS, Classification.CONFIDENTIAL, True),
    ("registrar", REGISTRY_ADMINS, Classification.SECRET, True),
)


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    groups: str
    clearance: str
    created: bool


def create_demo_users() -> list[DemoLogin]:
    """Create the demo users that are missing. An existing user of that name is left exactly
    as it is (password, groups, clearance, staff and active flags): its current groups and
    clearance are reported, and ``created`` is False."""
    user_model = get_user_model()
    logins = []
    for username, group_name, clearance, staff in DEMO_USERS:
        user = user_model.objects.filter(username=username).first()
        created = user is None
        if created:
            user = user_model(
                username=username,
                email=f"{username}@registry.example",
                clearance=clearance,
                is_staff=staff,
                is_active=True,
            )
            user.set_password(demo_password(username))
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
        groups = ", ".join(sorted(user.groups.values_list("name", flat=True))) or "no group"
        logins.append(
            DemoLogin(
                username=username,
                password=demo_password(username),
                groups=groups,
                clearance=user.get_clearance_display(),
                created=created,
            )
        )
    return logins
