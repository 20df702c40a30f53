"""The project's ``ModelSerializer``: DRF's, with the fields it derives from the model built
once per serializer class instead of on every instance.

DRF's ``ModelSerializer.get_fields`` reads the model's fields and builds a serializer field
for each (their kinds, arguments and validators) whenever a serializer is made, which is on
every request, once for each nested serializer: about a sixth of an agreement's create.
What it builds depends only on the class (its ``Meta`` and declared fields), so it is kept
on the class and each instance gets a deep copy, as DRF does for declared fields. A
serializer whose fields depend on the request or the instance must override
``get_fields`` (or build them in ``__init__``) and not rely on this cache."""

from __future__ import annotations

import copy

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return copy.deepcopy(built)
