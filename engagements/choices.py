from django.db import models


class EngagementKind(models.TextChoices):
    EXERCISE = "exercise", "Exercise"
    TRAINING = "training", "Training"
    EDUCATION = "education", "Education (a course or school place)"
    EXCHANGE = "exchange", "Exchange (personnel or unit)"
    STAFF_TALKS = "staff_talks", "Staff talks"
    SENIOR_LEADER_VISIT = "senior_leader_visit", "Senior-leader visit"
    STAFF_VISIT = "staff_visit", "Staff visit"
    PORT_VISIT = "port_visit", "Port visit"
    CONFERENCE = "conference", "Conference"
    HUMANITARIAN_ASSISTANCE = "humanitarian_assistance", "Humanitarian assistance"
    DISASTER_RELIEF = "disaster_relief", "Disaster relief"
    PEACEKEEPING = "peacekeeping", "Peacekeeping"
    OTHER = "other", "Other"


class EngagementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    PLANNED = "planned", "Planned"
    APPROVED = "approved", "Approved"
    ONGOING = "ongoing", "Ongoing"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    POSTPONED = "postponed", "Postponed"

    @classmethod
    def committed(cls) -> list[str]:
        """Approved or under way or done: it needs a participant besides the host."""
        return [cls.APPROVED, cls.ONGOING, cls.COMPLETED]

    @classmethod
    def without_report(cls) -> list[str]:
        """Did not take place: no after-action report is owed."""
        return [cls.CANCELLED, cls.POSTPONED]


class Domain(models.TextChoices):
    LAND = "land", "Land"
    MARITIME = "maritime", "Maritime"
    AIR = "air", "Air"
    CYBER = "cyber", "Cyber"
    SPACE = "space", "Space"
    JOINT = "joint", "Joint"


class Outcome(models.TextChoices):
    """The after-action assessment: were the engagement's objectives met?"""

    MET = "met", "Met"
    PARTLY_MET = "partly_met", "Partly met"
    NOT_MET = "not_met", "Not met"


class ParticipationRole(models.TextChoices):
    HOST = "host", "Host"
    LEAD = "lead", "Lead"
    PARTICIPANT = "participant", "Participant"
    OBSERVER = "observer", "Observer"
