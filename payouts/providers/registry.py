"""Which provider pays a payout method, built from settings on demand."""

from __future__ import annotations

from collections.abc import Callable

from payouts.providers.base import PayoutProvider, ProviderNotConfigured

METHODS = ("paypal", "payoneer", "stripe", "bank", "sandbox")


def _paypal() -> PayoutProvider:
    from payouts.providers.paypal import PayPalProvider

    return PayPalProvider.from_settings()


def _payoneer() -> PayoutProvider:
    from payouts.providers.payoneer import PayoneerProvider

    return PayoneerProvider.from_settings()


def _stripe() -> PayoutProvider:
    from payouts.providers.stripe_connect import StripeConnectProvider

    return StripeConnectProvider.from_settings()


def _bank() -> PayoutProvider:
    from payouts.providers.bank_file import BankFileProvider

    return BankFileProvider()


def _sandbox() -> PayoutProvider:
    from payouts.providers.sandbox import SandboxProvider

    return SandboxProvider()


_FACTORIES: dict[str, Callable[[], PayoutProvider]] = {
    "paypal": _paypal,
    "payoneer": _payoneer,
    "stripe": _stripe,
    "bank": _bank,
    "sandbox": _sandbox,
}


def get_provider(method: str) -> PayoutProvider:
    """The provider for a payout method; ProviderNotConfigured names the missing settings."""
    factory = _FACTORIES.get(method)
    if factory is None:
        raise ProviderNotConfigured(
            f"Unknown payout method {method!r}; expected one of {', '.join(METHODS)}.", code="unknown_method"
        )
    return factory()


def is_configured(method: str) -> bool:
    """Whether get_provider(method) would succeed (for hiding unusable methods in forms)."""
    try:
        get_provider(method)
    except ProviderNotConfigured:
        return False
    return True
