"""Locale-aware formatting for report pages (English and Vietnamese): counts, percentages, money, days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from django import template
from django.utils.translation import get_language

from network import money

register = template.Library()


def current_locale() -> str:
    return (get_language() or "en").replace("-", "_")


@register.filter
def count(value: int | None) -> str:
    """A whole number with the locale's grouping ("12,345" / "12.345")."""
    return format_decimal(int(value or 0), locale=current_locale())


@register.filter
def pct(value: Decimal | float | None) -> str:
    """A percentage already in percent ("2.50" → "2.5 %"), localised."""
    return f"{format_decimal(Decimal(value or 0), format='#,##0.##', locale=current_locale())} %"


@register.filter
def share(value: Decimal | None) -> str:
    """A share 0..1 as a percentage with one decimal."""
    return f"{format_decimal(Decimal(value or 0) * 100, format='#,##0.0', locale=current_locale())} %"


@register.filter
def amount(value: int | None, currency: str) -> str:
    """Minor units formatted in the active language ("$12.50", "12,50 US$")."""
    if not currency:
        return count(value)
    return money.format_money(int(value or 0), currency, current_locale())


@register.filter
def day(value: date | None) -> str:
    """A day in the locale's medium format ("Mar 10, 2026" / "10 thg 3, 2026")."""
    return format_date(value, "medium", locale=current_locale()) if value else ""


@register.filter
def get_item(mapping: dict | None, key: str) -> object:
    """mapping[key] or None, for per-currency dictionaries in templates."""
    return (mapping or {}).get(key)
