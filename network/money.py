"""Money helpers: integer minor units with an ISO 4217 code, Decimal rates, one rounding rule.

The one rounding rule of the platform is half-even to the currency's minor unit (`round_minor`).
"""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.core.exceptions import ValidationError


@cache
def currency_codes() -> frozenset[str]:
    """Every ISO 4217 code that babel knows."""
    return frozenset(list_currencies())


def validate_currency(code: str) -> str:
    """Return the code if it is a known ISO 4217 currency, else raise ValidationError."""
    if not isinstance(code, str) or code not in currency_codes():
        raise ValidationError(f"{code!r} is not an ISO 4217 currency code.", code="invalid_currency")
    return code


def minor_digits(currency: str) -> int:
    """Digits after the decimal point for the currency (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(validate_currency(currency))


def round_minor(value: Decimal) -> int:
    """Round an amount already expressed in minor units, half-even, to an integer."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """Parse a major-unit amount ("12.50") into minor units; more digits than the currency has is an error."""
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{amount!r} is not a decimal amount.", code="invalid_amount") from None
    if not value.is_finite():
        raise ValidationError(f"{amount!r} is not a decimal amount.", code="invalid_amount")
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"{amount!r} has more than {digits} decimal places for {currency}.", code="too_many_decimals"
        )
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> str:
    """Format minor units as the contract's decimal string in major units ("12.50")."""
    digits = minor_digits(currency)
    value = Decimal(amount_minor).scaleb(-digits)
    return f"{value:.{digits}f}"


def apply_rate(amount_minor: int, rate_percent: Decimal) -> int:
    """A percentage of an amount in minor units, rounded by the one rule."""
    return round_minor(Decimal(amount_minor) * rate_percent / Decimal(100))


def split_evenly(amount_minor: int, parts: int) -> list[int]:
    """Split an amount into `parts` integers that sum exactly to it (the first ones get the remainder)."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, remainder = divmod(amount_minor, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def format_money(amount_minor: int, currency: str, locale: str = "en") -> str:
    """Human display of an amount for a locale ("€12.50", "12,50 €")."""
    value = Decimal(amount_minor).scaleb(-minor_digits(currency))
    return format_currency(value, currency, locale=locale.replace("-", "_"))
