"""Demo users: one per access group, each with a different clearance."""

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


def create_demo_users() -> list[tuple[str, str, str, str]]:
    """Create or reset the demo users; returns (username, password, group, clearance)."""
    user_model = get_user_model()
    logins = []
    for username, group_name, clearance, staff in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@registry.example"}
        )
        user.clearance = clearance
        user.is_staff = staff
        user.is_active = True
        user.set_password(demo_password(username))
        user.save()
        user.groups.set([Group.objects.get(name=group_name)])
        logins.append((username, demo_password(username), group_name, clearance.label))
    return logins
