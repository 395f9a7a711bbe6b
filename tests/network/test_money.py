from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from network import money


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("12.50", "EUR", 1250), ("0.01", "USD", 1), ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("0", "VND", 0),
])
def test_to_minor_and_back(amount, currency, minor):
    assert money.to_minor(amount, currency) == minor
    assert money.to_minor(money.to_major(minor, currency), currency) == minor


@pytest.mark.parametrize(("amount", "currency"), [("1.001", "EUR"), ("1.5", "JPY"), ("abc", "EUR"), ("NaN", "USD")])
def test_to_minor_refuses_what_cannot_be_exact(amount, currency):
    with pytest.raises(ValidationError):
        money.to_minor(amount, currency)


def test_unknown_currency_is_refused():
    with pytest.raises(ValidationError):
        money.validate_currency("XYZ")


def test_rounding_is_half_even():
    assert money.round_minor(Decimal("2.5")) == 2
    assert money.round_minor(Decimal("3.5")) == 4
    assert money.apply_rate(1005, Decimal("10")) == 100  # 100.5 -> 100
    assert money.apply_rate(1015, Decimal("10")) == 102  # 101.5 -> 102


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=1, max_value=500))
def test_splits_sum_to_the_total(total, parts):
    split = money.split_evenly(total, parts)
    assert sum(split) == total
    assert max(split) - min(split) <= 1


def test_format_money_follows_the_locale():
    assert money.format_money(123456, "EUR", "en") == "€1,234.56"
    assert money.format_money(123456, "EUR", "vi") == "1.234,56\xa0€"
