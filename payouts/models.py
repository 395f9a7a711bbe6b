"""The ledger (accounts, transactions, entries), merchant funding, invoices and billing settings.

Sign convention: an entry's `amount_minor` is positive for a DEBIT and negative for a CREDIT.
Every transaction sums to zero per currency. Liability accounts (what the network owes: an
affiliate's payable, a merchant's prepaid balance) therefore carry negative sums; the selectors
flip the sign for display. See docs/ledger.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import NetworkOwned, validate_currency


class AppendOnlyQuerySet(models.QuerySet):
    """Ledger rows are never changed or removed: corrections are new, reversing transactions.

    The database refuses too (triggers, see the migrations); this makes the ORM refuse first, with
    a clear message, for `.update()` and `.delete()` on querysets.
    """

    def for_network(self, network: Any) -> AppendOnlyQuerySet:
        network_id = network if isinstance(network, int) else network.pk
        if network_id is None:
            raise ValueError("for_network() needs a saved network")
        return self.filter(network_id=network_id)

    def update(self, **kwargs: Any) -> int:
        raise LedgerImmutable(f"{self.model.__name__} rows are append-only; post a reversing transaction")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(f"{self.model.__name__} rows are append-only; post a reversing transaction")


class LedgerImmutable(Exception):
    """Raised on any attempt to change or delete a posted ledger row."""


class AppendOnly(models.Model):
    """A model whose saved rows may not be saved again or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutable(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutable(f"{type(self).__name__} rows are append-only")


class LedgerAccount(NetworkOwned):
    """One account of a network's ledger in one currency, optionally owned by a merchant or an affiliate."""

    class Kind(models.TextChoices):
        # Liabilities: what the network owes.
        AFFILIATE_PAYABLE = "affiliate_payable", _("Affiliate payable")
        PAYOUTS_IN_TRANSIT = "payouts_in_transit", _("Payouts in transit")
        MERCHANT_BALANCE = "merchant_balance", _("Merchant balance")
        # Income.
        NETWORK_REVENUE = "network_revenue", _("Network revenue")
        # Assets: money the network holds, at its bank or at a payout provider.
        CASH = "cash", _("Cash at bank")
        PROVIDER_CLEARING = "provider_clearing", _("Provider clearing")
        # Manual corrections approved by staff.
        ADJUSTMENTS = "adjustments", _("Adjustments")

    AFFILIATE_KINDS = frozenset({Kind.AFFILIATE_PAYABLE, Kind.PAYOUTS_IN_TRANSIT})
    MERCHANT_KINDS = frozenset({Kind.MERCHANT_BALANCE})

    kind = models.CharField(max_length=32, choices=Kind.choices)
    merchant = models.ForeignKey("merchants.Merchant", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    affiliate = models.ForeignKey("affiliates.Affiliate", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One account per (network, kind, owner, currency); three partial indexes because NULL owners
            # are distinct in a plain unique index.
            models.UniqueConstraint(fields=["network", "kind", "currency"],
                                    condition=Q(merchant__isnull=True, affiliate__isnull=True),
                                    name="ledger_account_unique_network_kind"),
            models.UniqueConstraint(fields=["network", "kind", "merchant", "currency"],
                                    condition=Q(merchant__isnull=False),
                                    name="ledger_account_unique_merchant_kind"),
            models.UniqueConstraint(fields=["network", "kind", "affiliate", "currency"],
                                    condition=Q(affiliate__isnull=False),
                                    name="ledger_account_unique_affiliate_kind"),
            # Owner matches the kind: affiliate kinds have an affiliate, the merchant kind a merchant, others none.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["affiliate_payable", "payouts_in_transit"], affiliate__isnull=False,
                      merchant__isnull=True)
                    | Q(kind="merchant_balance", merchant__isnull=False, affiliate__isnull=True)
                    | (~Q(kind__in=["affiliate_payable", "payouts_in_transit", "merchant_balance"])
                       & Q(merchant__isnull=True, affiliate__isnull=True))
                ),
                name="ledger_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = f" m{self.merchant_id}" if self.merchant_id else f" a{self.affiliate_id}" if self.affiliate_id else ""
        return f"{self.kind}{owner} {self.currency}"


class LedgerTransaction(NetworkOwned, AppendOnly):
    """One balanced journal transaction; unique per (network, idempotency key)."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", _("Commission approved")
        REVERSAL = "reversal", _("Commission reversed")
        BONUS = "bonus", _("Bonus")
        FUNDING = "funding", _("Merchant funding")
        PAYOUT_RESERVE = "payout_reserve", _("Payout reserved")
        PAYOUT_SETTLE = "payout_settle", _("Payout settled")
        PAYOUT_VOID = "payout_void", _("Payout voided")
        PAYOUT_RETURN = "payout_return", _("Payout returned")
        ADJUSTMENT = "adjustment", _("Adjustment")

    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.ADJUSTMENT)
    idempotency_key = models.CharField(max_length=200)
    # What caused it, e.g. "conversion:123:approved"; a key into another app, never a foreign key.
    source = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=255, blank=True)
    # Optional dimensions for reports and invoices.
    program = models.ForeignKey("merchants.Program", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    # SHA-256 of the canonical lines: a replay with the same key must carry the same lines.
    lines_digest = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "idempotency_key"],
                                               name="ledger_transaction_unique_key")]
        indexes = [models.Index(fields=["network", "kind", "occurred_at"]),
                   models.Index(fields=["network", "source"])]

    def __str__(self) -> str:
        return self.idempotency_key


class LedgerEntry(NetworkOwned, AppendOnly):
    """One line of a transaction: a signed amount (+debit / −credit) on one account, in its currency."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_entry_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_minor:+d} {self.currency}"


class MerchantFunding(NetworkOwned):
    """A prepayment into a merchant's balance (bank transfer recorded by staff, or a Stripe payment)."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        STRIPE = "stripe", _("Stripe")

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    # The bank reference or Stripe id; a second record with the same reference is the same payment.
    reference = models.CharField(max_length=120)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    note = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    ledger_transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["network", "reference"], name="merchant_funding_unique_reference"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="merchant_funding_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount_minor} {self.currency}"


class NetworkBillingSettings(NetworkOwned):
    """A network's billing choices: the funding horizon and whether unfunded programs are paused."""

    network = models.OneToOneField("network.Network", on_delete=models.CASCADE, related_name="+")
    funding_horizon_days = models.PositiveSmallIntegerField(default=14)
    # "Low" starts when the balance covers less than this horizon; "unfunded" when it is exhausted.
    pause_unfunded_programs = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"billing settings of {self.network_id}"


class InvoiceCounter(NetworkOwned):
    """The next invoice number of a network; locked with SELECT … FOR UPDATE so numbers have no gaps."""

    network = models.OneToOneField("network.Network", on_delete=models.CASCADE, related_name="+")
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.network_id}: next {self.next_number}"


class Invoice(NetworkOwned):
    """A merchant's statement for one calendar month in one currency: approved commissions plus fees."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive: the first day of the next month
    currency = models.CharField(max_length=3, validators=[validate_currency])
    commission_minor = models.BigIntegerField()
    fee_minor = models.BigIntegerField()
    total_minor = models.BigIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["network", "number"], name="invoice_unique_number"),
            models.UniqueConstraint(fields=["network", "merchant", "period_start", "currency"],
                                    name="invoice_unique_period"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.period_start:%Y}-{self.number:06d}"


class InvoiceLine(NetworkOwned):
    """One line of an invoice: a program's approvals or reversals in the period."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    program = models.ForeignKey("merchants.Program", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    kind = models.CharField(max_length=32, choices=LedgerTransaction.Kind.choices)
    description = models.CharField(max_length=255)
    transactions = models.PositiveIntegerField()
    commission_minor = models.BigIntegerField()
    fee_minor = models.BigIntegerField()
    total_minor = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description


# --- Payouts: profiles, batches, payouts, their events, provider webhook deliveries (docs/payouts.md). ---

class PayoutMethod(models.TextChoices):
    """How an affiliate is paid; each has one provider in payouts/providers/."""

    PAYPAL = "paypal", _("PayPal")
    PAYONEER = "payoneer", _("Payoneer")
    STRIPE = "stripe", _("Stripe Connect")
    BANK = "bank", _("Bank transfer")
    SANDBOX = "sandbox", _("Sandbox (demo)")


class PayoutProfile(NetworkOwned):
    """How, in which currency and from which amount an affiliate wants to be paid, with a tax declaration."""

    class Verification(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        PENDING = "pending", _("Waiting for the provider")
        UNVERIFIED = "unverified", _("Not verified")

    affiliate = models.OneToOneField("affiliates.Affiliate", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=16, choices=PayoutMethod.choices)
    # Normalized by the provider's validate_recipient; copied onto each payout when a batch is built.
    details = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    # Null: the network minimum. Never below it (the services refuse).
    threshold_minor = models.BigIntegerField(null=True, blank=True)
    # {"form": "w9"|"w8ben", "legal_name", "country", "tax_id", "signed_on": "YYYY-MM-DD"}
    tax = models.JSONField(default=dict, blank=True)
    verification = models.CharField(max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED)
    verification_note = models.CharField(max_length=255, blank=True)
    # What the provider last said about the account (Stripe account.updated detail, Payoneer payee status).
    provider_account = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.affiliate_id}: {self.method} {self.currency}"


class PayoutBatch(NetworkOwned):
    """All payouts of one network for one schedule period; staff review and approve it before it is sent."""

    class Status(models.TextChoices):
        REVIEW = "review", _("In review")
        APPROVED = "approved", _("Approved, sending")
        COMPLETED = "completed", _("Completed")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REVIEW: frozenset({Status.APPROVED, Status.COMPLETED}),
        Status.APPROVED: frozenset({Status.COMPLETED}),
        Status.COMPLETED: frozenset(),
    }

    # The schedule period ("2026-03", "2026-03-16", "net-2026-02"): one batch per period (a rerun builds nothing).
    period_key = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REVIEW)
    built_at = models.DateTimeField(default=timezone.now)
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")  # None: built by the schedule
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    # Affiliates whose balance reached the threshold but who are on hold: [{affiliate, name, currency,
    # amount_minor, reasons}]. Snapshot at build time; their money stays in their balance.
    exceptions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-built_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["network", "period_key"], name="payout_batch_unique_period")]

    def __str__(self) -> str:
        return f"{self.network_id}:{self.period_key}"

    @property
    def reference(self) -> str:
        """Our batch reference; providers derive their batch keys from it (PayPal sender_batch_id)."""
        return f"payout-batch:{self.pk}"


class Payout(NetworkOwned):
    """One payment to one affiliate in one currency; its provider key is fixed when the row is created."""

    class Status(models.TextChoices):
        CREATED = "created", _("Waiting for approval")
        SUBMITTING = "submitting", _("Sending")
        SUBMITTED = "submitted", _("Sent, waiting for the provider")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        RETURNED = "returned", _("Returned")
        REMOVED = "removed", _("Removed from the batch")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.CREATED: frozenset({Status.SUBMITTING, Status.REMOVED, Status.FAILED}),
        # SUBMITTING → SUBMITTING: a new claim after an uncertain attempt (the lease ran out).
        Status.SUBMITTING: frozenset({Status.SUBMITTING, Status.SUBMITTED, Status.PAID, Status.FAILED}),
        Status.SUBMITTED: frozenset({Status.PAID, Status.FAILED}),
        Status.PAID: frozenset({Status.RETURNED}),
        Status.FAILED: frozenset(),
        Status.RETURNED: frozenset(),
        Status.REMOVED: frozenset(),
    }
    OPEN_STATUSES = frozenset({Status.CREATED, Status.SUBMITTING, Status.SUBMITTED})  # money in transit

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="payouts")
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    method = models.CharField(max_length=16, choices=PayoutMethod.choices)
    recipient = models.JSONField(default=dict, blank=True)  # the profile details when the batch was built
    # Deterministic and unique: every provider key (Stripe Idempotency-Key, PayPal sender_item_id,
    # Payoneer client_reference_id, sandbox reference) derives from it, across every retry.
    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    attempts = models.PositiveIntegerField(default=0)
    # A claim in "submitting" holds until then; after it a new run checks the provider by key first.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    provider_batch_id = models.CharField(max_length=128, blank=True)
    provider_status = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    # When the settled hooks (tracking marks conversions paid) last ran to completion; None = still to run.
    hooks_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "affiliate", "currency"], name="payout_unique_per_batch"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_positive"),
        ]
        indexes = [models.Index(fields=["network", "status"], name="payout_network_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PayoutEvent(NetworkOwned):
    """One state change of a payout: who or what moved it, from where to where, and why."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    source = models.CharField(max_length=64, blank=True)  # "submit", "poll", "webhook:<event id>", "staff", …
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.payout_id}: {self.from_status} → {self.to_status}"


class ProviderWebhookEvent(models.Model):
    """A provider notification we processed, unique per (provider, event id) so replays change nothing."""

    provider = models.CharField(max_length=16, choices=PayoutMethod.choices)
    provider_event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    reference = models.CharField(max_length=128, blank=True)
    network = models.ForeignKey("network.Network", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")  # known once the reference matched a payout or profile
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["provider", "provider_event_id"],
                                               name="provider_webhook_unique_event")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_event_id}"
