"""Template filters for amounts in minor units."""

from django import template
from django.utils.translation import get_language

from network import money

register = template.Library()


@register.filter
def minor(amount_minor: int | None, currency: str) -> str:
    """Format minor units for display in the current language ("$12.50")."""
    return money.format_money(int(amount_minor or 0), currency, get_language() or "en")


@register.filter
def major(amount_minor: int | None, currency: str) -> str:
    """Minor units as a plain decimal string ("12.50"), for tables and CSV."""
    return money.to_major(int(amount_minor or 0), currency)
