"""Callbacks other apps register for payout outcomes (payouts may not import tracking: DESIGN.md).

The tracking app registers from its AppConfig.ready:

    from payouts import hooks
    hooks.register_payout_settled(lambda *, network, payout, conversion_ids:
                                  lifecycle.mark_conversions_paid(network, conversion_ids, payout.reference))

A hook runs after the paid payout committed, at least once (a crash before it finished makes the poll
task run it again), so it must be idempotent. `conversion_ids` are the ids in the approval sources
(`conversion:<id>:approved`) the payout covers (see `payout_services.covered_conversion_ids`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from network.models import Network
    from payouts.models import Payout

PayoutSettledHook = Callable[..., Any]  # fn(*, network: Network, payout: Payout, conversion_ids: list[int])
_settled_hooks: list[PayoutSettledHook] = []


def register_payout_settled(fn: PayoutSettledHook) -> None:
    """Register fn(*, network, payout, conversion_ids) to run once a payout is paid (idempotent consumers)."""
    if fn not in _settled_hooks:
        _settled_hooks.append(fn)


def unregister_payout_settled(fn: PayoutSettledHook) -> None:
    """Remove a hook (tests)."""
    if fn in _settled_hooks:
        _settled_hooks.remove(fn)


def settled_hooks() -> list[PayoutSettledHook]:
    """The registered hooks, in registration order."""
    return list(_settled_hooks)


def run_payout_settled(*, network: Network, payout: Payout, conversion_ids: list[int]) -> None:
    """Call every hook; an exception propagates so the caller leaves the payout's hooks to be retried."""
    for fn in list(_settled_hooks):
        fn(network=network, payout=payout, conversion_ids=conversion_ids)
