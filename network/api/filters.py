"""Filters shared by every API list."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.db.models import QuerySet


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter that compares in UTC.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: an offset such as +19:05 would
    reach the database as is and fail the query (a 500). Converting to UTC first keeps the instant.
    """

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if isinstance(value, datetime) and value.tzinfo is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                # An instant before year 1 or after 9999 in UTC matches nothing or everything; refuse it.
                from rest_framework.exceptions import ValidationError

                raise ValidationError({self.field_name: ["This date-time is out of range."]}) from None
        return super().filter(qs, value)
