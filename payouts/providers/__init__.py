"""Payout providers behind one interface (see base.PayoutProvider and docs/payouts-providers.md)."""

from payouts.providers.base import (
    OnboardingLink,
    PayoutItem,
    PayoutProvider,
    PayoutStatus,
    ProviderError,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    StatusResult,
    SubmitResult,
    WebhookEvent,
    WebhookRejected,
)
from payouts.providers.registry import METHODS, get_provider, is_configured

__all__ = [
    "METHODS",
    "OnboardingLink",
    "PayoutItem",
    "PayoutProvider",
    "PayoutStatus",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderRejected",
    "ProviderUnavailable",
    "StatusResult",
    "SubmitResult",
    "WebhookEvent",
    "WebhookRejected",
    "get_provider",
    "is_configured",
]
