"""The four access groups of the registry and the permissions each one holds.

Synced after every migrate by a post_migrate receiver (``accounts.apps``): this declaration is
the only place the groups are defined."""

REGISTRY_APPS = ("agreements", "partners", "history", "engagements")

POLICY_STAFF = "Policy staff"
ANALYSTS = "Analysts"
EDITORS = "Editors"
REGISTRY_ADMINS = "Registry admins"

GROUPS = {
    POLICY_STAFF: {"actions": ("view",), "extra": ()},
    ANALYSTS: {
        "actions": ("view",),
        "extra": (
            "agreements.export_agreement",
            "agreements.view_statistics",
            "engagements.export_engagement",
        ),
    },
    # Editors pick owners and watchers, so they may look users up; they export what they
    # select in the admin (issue: "editors get actions to export the selection as CSV").
    EDITORS: {
        "actions": ("view", "add", "change"),
        "extra": (
            "accounts.view_user",
            "agreements.export_agreement",
            "engagements.export_engagement",
        ),
    },
    # Everything in the registry, users and groups included.
    REGISTRY_ADMINS: {"actions": ("view", "add", "change", "delete"), "all": True, "extra": ()},
}


def sync_groups(apps) -> None:
    """Create or update the groups with their permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, spec in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if spec.get("all"):
            perms = Permission.objects.filter(
                content_type__app_label__in=(*REGISTRY_APPS, "accounts", "auth", "authtoken")
            )
        else:
            codename_prefixes = tuple(f"{action}_" for action in spec["actions"])
            perms = [
                p
                for p in Permission.objects.filter(
                    content_type__app_label__in=REGISTRY_APPS
                ).select_related("content_type")
                if p.codename.startswith(codename_prefixes)
                and p.codename not in ("view_statistics",)
            ]
            for label in spec["extra"]:
                app_label, codename = label.split(".")
                perms.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
        group.permissions.set(perms)
