from django.db import models


class OrganizationKind(models.TextChoices):
    ALLIANCE = "alliance", "Alliance"
    REGIONAL = "regional_organization", "Regional organization"
    INTERNATIONAL = "international_organization", "International organization"
    COALITION = "coalition", "Coalition"


class ContactRole(models.TextChoices):
    DEFENSE_ATTACHE = "defense_attache", "Defense attaché"
    ARMY_ATTACHE = "army_attache", "Army attaché"
    NAVAL_ATTACHE = "naval_attache", "Naval attaché"
    AIR_ATTACHE = "air_attache", "Air attaché"
    LIAISON_OFFICER = "liaison_officer", "Liaison officer"
    DESK_OFFICER = "desk_officer", "Desk officer"
