"""The project's ModelSerializer (``config.serializers``) builds the fields it derives from
the model once per class; each serializer gets its own copies, and a callable default is
still called at each write."""

import datetime
from unittest import mock

import pytest
import time_machine
from rest_framework import serializers

from accounts.models import User
from agreements.api.serializers import (
    AgreementWriteSerializer,
    ModelInputSerializer,
    ProvisionSerializer,
)


def test_fields_are_built_once_per_class():
    ProvisionSerializer().fields  # noqa: B018 (built, if not yet)
    with mock.patch.object(
        serializers.ModelSerializer, "build_field", side_effect=AssertionError("built again")
    ):
        first, second = ProvisionSerializer().fields, ProvisionSerializer().fields
    assert list(first) == list(second) and "title" in first
    assert first["title"] is not second["title"]  # each its own copy, bound to its serializer
    assert first["title"].parent is not second["title"].parent


def test_copies_do_not_share_state():
    one, two = AgreementWriteSerializer(), AgreementWriteSerializer()
    one.fields["title"].max_length = 3
    assert two.fields["title"].max_length != 3
    assert AgreementWriteSerializer().fields["title"].max_length != 3


def test_each_class_keeps_its_own_fields():
    assert set(ProvisionSerializer().fields) != set(AgreementWriteSerializer().fields)


class LastLoginInput(ModelInputSerializer):
    class Meta:
        model = User
        fields = ["username", "date_joined"]


@pytest.mark.django_db
def test_a_callable_default_is_called_at_each_write():
    """``User.date_joined`` defaults to ``timezone.now``: each write gets its own time, not
    the time the fields were first built."""
    for day in (2, 3):
        with time_machine.travel(datetime.datetime(2026, 1, day, 9, tzinfo=datetime.UTC)):
            serializer = LastLoginInput(data={"username": f"user{day}"})
            assert serializer.is_valid(), serializer.errors
            assert serializer.validated_data["date_joined"].day == day
