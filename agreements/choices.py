from django.db import models


class AgreementType(models.TextChoices):
    DCA = "dca", "Defense cooperation agreement"
    ALLIANCE = "alliance", "Alliance (mutual defense, consultation, neutrality, non-aggression)"
    SOFA = "sofa", "Status of forces agreement"
    MOU = "mou", "Memorandum of understanding"
    ACSA = "acsa", "Logistics / acquisition and cross-servicing"
    SECURITY_OF_INFORMATION = "security_of_information", "Security of information"
    FRAMEWORK = "framework", "Framework agreement"
    IMPLEMENTING_ARRANGEMENT = "implementing_arrangement", "Implementing arrangement"
    EXCHANGE = "exchange", "Exchange"
    TRAINING = "training", "Training"
    DEFENSE_INDUSTRIAL = "defense_industrial", "Defense industrial"
    ACCESS = "access", "Access"
    OTHER = "other", "Other"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATING = "negotiating", "Negotiating"
    SIGNED = "signed", "Signed"
    IN_FORCE = "in_force", "In force"
    SUSPENDED = "suspended", "Suspended"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    SUPERSEDED = "superseded", "Superseded"

    @classmethod
    def pre_signature(cls) -> list[str]:
        return [cls.DRAFT, cls.NEGOTIATING]

    @classmethod
    def live(cls) -> list[str]:
        """Signed and not finished: the agreement's expiry and notice deadline are due, and
        the lifecycle moves it with its dates."""
        return [cls.SIGNED, cls.IN_FORCE, cls.SUSPENDED]

    @classmethod
    def final(cls) -> list[str]:
        """Finished: none of the agreement's dates is due any more."""
        return [cls.EXPIRED, cls.TERMINATED, cls.SUPERSEDED]


class ProvisionCategory(models.TextChoices):
    TRAINING = "training", "Training"
    INTELLIGENCE_SHARING = "intelligence_sharing", "Intelligence sharing"
    LOGISTICS = "logistics", "Logistics"
    EXCHANGES = "exchanges", "Personnel exchanges"
    JOINT_EXERCISES = "joint_exercises", "Joint exercises"
    TECHNOLOGY_TRANSFER = "technology_transfer", "Technology transfer"
    CRISIS_RESPONSE = "crisis_response", "Crisis response"
    STATUS_OF_FORCES = "status_of_forces", "Status of forces"
    RESEARCH_DEVELOPMENT = "research_development", "Research and development"
    DEFENSE_INDUSTRY = "defense_industry", "Defense industry"
    PEACEKEEPING = "peacekeeping", "Peacekeeping"
    CYBER = "cyber", "Cyber"
    MUTUAL_DEFENSE = "mutual_defense", "Mutual defense"
    CONSULTATION = "consultation", "Consultation"
    NON_AGGRESSION = "non_aggression", "Non-aggression"
    NEUTRALITY = "neutrality", "Neutrality"
    BASING = "basing", "Basing"
    MILITARY_AID = "military_aid", "Military aid"
    INTEGRATED_COMMAND = "integrated_command", "Integrated command"
    OTHER = "other", "Other"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "Continue"
    AMEND = "amend", "Amend"
    RENEW = "renew", "Renew"
    TERMINATE = "terminate", "Terminate"
    ESCALATE = "escalate", "Escalate"


class EventKind(models.TextChoices):
    SIGNED = "signed", "Signed"
    ENTERED_INTO_FORCE = "entered_into_force", "Entered into force"
    AMENDED = "amended", "Amended"
    RENEWED = "renewed", "Renewed"
    REVIEWED = "reviewed", "Reviewed"
    NOTICE_GIVEN = "notice_given", "Notice given"
    SUSPENDED = "suspended", "Suspended"
    RESUMED = "resumed", "Resumed"
    TERMINATED = "terminated", "Terminated"
    EXPIRED = "expired", "Expired"
    SUPERSEDED = "superseded", "Superseded"


class PartyActKind(models.TextChoices):
    """What a depositary records of one party's relation to an agreement."""

    SIGNATURE = "signature", "Signature"
    DEFINITIVE_SIGNATURE = "definitive_signature", "Definitive signature"
    RATIFICATION = "ratification", "Ratification"
    ACCEPTANCE = "acceptance", "Acceptance"
    APPROVAL = "approval", "Approval"
    ACCESSION = "accession", "Accession"
    SUCCESSION = "succession", "Succession"
    PROVISIONAL_APPLICATION = "provisional_application", "Provisional application"
    ENTRY_INTO_FORCE = "entry_into_force", "Entry into force for this party"
    RESERVATION = "reservation", "Reservation"
    DECLARATION = "declaration", "Declaration"
    SUSPENSION = "suspension", "Suspension"
    RESUMPTION = "resumption", "Resumption"
    WITHDRAWAL_OF_RATIFICATION = "withdrawal_of_ratification", "Withdrawal of ratification"
    DENUNCIATION = "denunciation", "Denunciation"
    WITHDRAWAL = "withdrawal", "Withdrawal"


class PartyStatus(models.TextChoices):
    """A party's relation to an agreement on a given day, derived from its acts."""

    SIGNATORY = "signatory", "Signatory"
    PROVISIONAL = "provisional", "Provisionally applying"
    BOUND = "bound", "Bound"
    SUSPENDED = "suspended", "Suspended"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReminderKind(models.TextChoices):
    EXPIRY = "expiry", "Expiry"
    NOTICE_DEADLINE = "notice_deadline", "Notice deadline"
    REVIEW = "review", "Review"
    POSTING_END = "posting_end", "Posting ends without a successor"
    ENGAGEMENT_START = "engagement_start", "Engagement starts"
    AFTER_ACTION = "after_action", "After-action report due"

    @classmethod
    def of_agreements(cls) -> list[str]:
        """The kinds of an agreement's dates (``Agreement.due_dates()``, its offsets)."""
        return [cls.EXPIRY, cls.NOTICE_DEADLINE, cls.REVIEW]


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled (no longer due)"


class DeliveryOutcome(models.TextChoices):
    """What one attempt to deliver a recorded reminder did (``reminders.reminder_deliver``)."""

    SENT = "sent", "Sent"
    DONE = "done", "Sent or cancelled before"
    BUSY = "busy", "Another worker holds the claim"
    CANCELLED = "cancelled", "Cancelled (no longer due)"
    MISSING = "missing", "The reminder is gone"
