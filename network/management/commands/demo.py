"""`manage.py demo`: load the demo network (idempotent) and print the demo logins."""

from typing import Any

from django.core.management.base import BaseCommand

from network.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo network (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        context = load_demo()
        self.stdout.write(f"Demo logins (password for all: {context['password']}):")
        for label, email in context["logins"]:
            self.stdout.write(f"  {label:<28} {email}")
