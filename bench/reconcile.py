"""Reconciliation benchmark on PostgreSQL: `reconcile` against a raw SQL floor, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seed_lifecycle_bench \\
        .venv/bin/python bench/reconcile.py [--conversions 1000000] [--chunk-size 2000] [--affiliates 200]

What it does:
  1. creates the database if missing and migrates; makes two identical bench networks (fee 20 % of
     commission), each with one merchant, one program and --affiliates affiliates, and inserts
     --conversions due pending conversions into each with one INSERT … SELECT generate_series;
  2. pre-creates the ledger accounts of both networks (so neither timing includes account creation);
  3. times `tracking.reconcile.reconcile(network=A)` — chunked, SKIP LOCKED claims, one UPDATE …
     RETURNING per chunk, bulk inserts of transactions, entries and events — and records the process's
     peak RSS (resource.getrusage) before and after;
  4. times the floor on network B: ONE SQL statement (data-modifying CTEs) that does the same status
     change and inserts the same ledger transactions, entries and events;
  5. checks both ledgers have the same number of transactions and entries and the same sums per account
     kind, and prints the times, rows per second, the ratio reconcile/floor and the peak memory.
Both pay the ledger's triggers (entry checks, deferred balance checks at COMMIT).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "network.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/seed_lifecycle_bench"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_network(label: str, affiliates: int) -> tuple:
    from affiliates.models import Affiliate
    from merchants.models import Merchant, Program
    from network.models import Network

    suffix = f"{label}{int(time.time() * 1000) % 10**9}"
    network = Network.objects.create(slug=f"bench-{suffix}", name=f"Bench {suffix}", default_currency="USD")
    merchant = Merchant.objects.create(network=network, name=f"Merchant {suffix}")
    program = Program.objects.create(network=network, merchant=merchant, name=f"Program {suffix}",
                                     landing_url="https://shop.example.com/", currency="USD", lock_days=30)
    Affiliate.objects.bulk_create([Affiliate(network=network, name=f"Affiliate {i}") for i in range(affiliates)])
    affiliate_ids = list(Affiliate.objects.filter(network=network).order_by("pk").values_list("pk", flat=True))
    return network, merchant, program, affiliate_ids


def insert_backlog(network, merchant, program, affiliate_ids: list[int], count: int) -> None:
    from django.db import connection

    first, spread = affiliate_ids[0], len(affiliate_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tracking_conversion (network_id, program_id, merchant_id, affiliate_id, order_id, action,
                amount_minor, currency, commission_minor, recurring_index, explanation, status, status_reason,
                reason_code, reversed_amount_minor, reversed_commission_minor, reversal_count, fee_minor,
                payout_ref, flags, source, attribution, attribution_note, coupon_code, customer_ref, payment_ref,
                ip_hash, sub1, sub2, sub3, sub4, sub5, occurred_at, lock_until, created_at, updated_at)
            SELECT %s, %s, %s, %s + (g %% %s), 'B-' || g, 'sale', 1000 + (g * 7919) %% 50000, 'USD',
                (1000 + (g * 7919) %% 50000) / 10, 0, '{"source": "program_rule"}', 'pending', '', '', 0, 0, 0, 0,
                '', '[]', 'api', 'click_id', '', '', '', '', '', '', '', '', '', '',
                now() - interval '40 days', now() - interval '10 days', now() - interval '40 days',
                now() - interval '40 days'
            FROM generate_series(1, %s) AS g
            """, [network.pk, program.pk, merchant.pk, first, spread, count])
    # Affiliate ids are consecutive from one bulk insert; the modulo above spreads the backlog over them.


def precreate_accounts(network, merchant, affiliate_ids: list[int]) -> None:
    from payouts import ledger

    ledger.get_account(network=network, kind=ledger.AccountKind.MERCHANT_BALANCE, currency="USD", merchant=merchant)
    ledger.get_account(network=network, kind=ledger.AccountKind.NETWORK_REVENUE, currency="USD")
    for affiliate_id in affiliate_ids:
        ledger.get_account(network=network, kind=ledger.AccountKind.AFFILIATE_PAYABLE, currency="USD",
                           affiliate=affiliate_id)


FLOOR_SQL = """
WITH moved AS (
    UPDATE tracking_conversion AS c
       SET status = 'approved', fee_minor = round(c.commission_minor * 0.20), approved_at = %(now)s,
           updated_at = %(now)s, status_reason = 'lock period over: approved automatically', reason_code = ''
     WHERE c.network_id = %(network)s AND c.status = 'pending' AND c.lock_until <= %(now)s
       AND c.affiliate_id IS NOT NULL
 RETURNING c.id, c.merchant_id, c.affiliate_id, c.program_id, c.commission_minor, c.fee_minor, c.order_id
), txn AS (
    INSERT INTO payouts_ledgertransaction (network_id, kind, idempotency_key, source, description, program_id,
                                           lines_digest, occurred_at, created_at)
    SELECT %(network)s, 'approval', 'conversion:' || id || ':approved', 'conversion:' || id || ':approved',
           'Conversion ' || order_id || ' approved', program_id, md5(id::text) || md5(order_id), %(now)s, %(now)s
      FROM moved
 RETURNING id, source
), entries AS (
    INSERT INTO payouts_ledgerentry (network_id, transaction_id, account_id, amount_minor, currency)
    SELECT %(network)s, txn.id, line.account_id, line.amount, 'USD'
      FROM txn
      JOIN moved ON txn.source = 'conversion:' || moved.id || ':approved'
      JOIN payouts_ledgeraccount payable ON payable.network_id = %(network)s AND payable.kind = 'affiliate_payable'
           AND payable.affiliate_id = moved.affiliate_id AND payable.currency = 'USD'
     CROSS JOIN LATERAL (VALUES (%(merchant_account)s::bigint, moved.commission_minor + moved.fee_minor),
                                (payable.id, -moved.commission_minor),
                                (%(revenue_account)s::bigint, -moved.fee_minor)) AS line(account_id, amount)
     WHERE line.amount <> 0
)
INSERT INTO tracking_conversionevent (network_id, conversion_id, kind, from_status, to_status, reason, reason_code,
                                      data, created_at)
SELECT %(network)s, id, 'transition', 'pending', 'approved', 'lock period over: approved automatically', '',
       '{}', %(now)s
  FROM moved
"""


def run_floor(network, merchant, now) -> float:
    from django.db import connection, transaction

    from payouts import ledger

    merchant_account = ledger.get_account(network=network, kind=ledger.AccountKind.MERCHANT_BALANCE,
                                          currency="USD", merchant=merchant)
    revenue_account = ledger.get_account(network=network, kind=ledger.AccountKind.NETWORK_REVENUE, currency="USD")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"now": now, "network": network.pk, "merchant_account": merchant_account.pk,
                                   "revenue_account": revenue_account.pk})
    return time.perf_counter() - started


def ledger_figures(network) -> tuple:
    from django.db.models import Count, Sum

    from payouts.models import LedgerEntry, LedgerTransaction

    sums = dict(LedgerEntry.objects.filter(network=network).values_list("account__kind")
                .annotate(total=Sum("amount_minor")).values_list("account__kind", "total"))
    entries = LedgerEntry.objects.filter(network=network).aggregate(n=Count("pk"))["n"]
    return LedgerTransaction.objects.filter(network=network).count(), entries, sums


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversions", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--affiliates", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("bench/reconcile.py needs PostgreSQL (DATABASE_URL=postgres://…)", file=sys.stderr)
        return 2
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from tracking import reconcile

    call_command("migrate", verbosity=0)
    setup_started = time.perf_counter()
    a = make_network("a", args.affiliates)
    b = make_network("b", args.affiliates)
    for network, merchant, program, affiliate_ids in (a, b):
        insert_backlog(network, merchant, program, affiliate_ids, args.conversions)
        precreate_accounts(network, merchant, affiliate_ids)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracking_conversion")
    print(f"setup: 2 × {args.conversions:,} pending conversions in {time.perf_counter() - setup_started:.1f}s")
    now = timezone.now()

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    summary = reconcile.reconcile(now=now, network=a[0], chunk_size=args.chunk_size)
    reconcile_seconds = time.perf_counter() - started
    rss_after = peak_rss_mb()
    floor_seconds = run_floor(b[0], b[1], now)

    figures_a, figures_b = ledger_figures(a[0]), ledger_figures(b[0])
    same = figures_a[:2] == figures_b[:2] and figures_a[2] == figures_b[2]
    n = args.conversions
    print(f"reconcile: {summary.approved:,} approved, {summary.transactions:,} transactions in {summary.chunks} "
          f"chunks of {args.chunk_size}: {reconcile_seconds:.1f}s ({n / reconcile_seconds:,.0f} conversions/s)")
    print(f"floor (one SQL statement): {floor_seconds:.1f}s ({n / floor_seconds:,.0f} conversions/s)")
    print(f"ratio reconcile / floor: {reconcile_seconds / floor_seconds:.2f}×")
    print(f"peak RSS: {rss_before:.0f} MB before reconcile, {rss_after:.0f} MB after "
          f"(+{rss_after - rss_before:.0f} MB)")
    print(f"ledgers equal (transactions, entries, sums per account kind): {same} {figures_a[:2]}")
    return 0 if same and summary.approved == n else 1


if __name__ == "__main__":
    sys.exit(main())
