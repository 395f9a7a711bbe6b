from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        from payouts import selectors as payout_selectors
        from tracking import selectors

        # Pending commission lives in tracking (it is not in the ledger until approval).
        payout_selectors.register_pending_source(selectors.pending_commission)
        payout_selectors.register_pending_cost_source(selectors.pending_cost)
