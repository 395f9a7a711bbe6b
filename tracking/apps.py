from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        from payouts import hooks as payout_hooks
        from payouts import selectors as payout_selectors
        from tracking import lifecycle, selectors

        # Pending commission lives in tracking (it is not in the ledger until approval).
        payout_selectors.register_pending_source(selectors.pending_commission)
        payout_selectors.register_pending_cost_source(selectors.pending_cost)
        # A settled payout marks the conversions it covered as paid.
        payout_hooks.register_payout_settled(lifecycle.on_payout_settled)
