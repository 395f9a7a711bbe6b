"""Pages of the merchants app (full paths: each app mounts its own prefixes)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
