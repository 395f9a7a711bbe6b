"""Reports benchmark: N generated clicks in PostgreSQL, rollups built, dashboards timed and their queries counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seed_reports_bench \\
        .venv/bin/python bench/reports.py [--clicks 10000000] [--days 30] [--links 500] [--repeat 5]

What it does (a dedicated database: the bench refuses one whose name lacks "bench"):
  1. migrates, makes a bench network with --programs programs, --links links (5 per affiliate) and one
     login per role; empties the click, conversion and rollup tables;
  2. inserts --clicks clicks set-based (INSERT … SELECT … FROM generate_series, in batches of 1 million)
     spread over --days days, and a conversion for every 50th click (statuses mixed);
  3. builds the rollups from scratch (services.rebuild_rollups), then adds 10 000 new clicks and times the
     incremental refresh the beat task runs every minute;
  4. times each dashboard page (affiliate, merchant, console; the whole request through Django's test
     client: middleware, selectors, SVG charts, template) and the performance API, --repeat times each,
     and counts their queries;
  5. prints the medians as ratios to a baseline measured in the same run: one `SELECT 1` round trip and a
     primary-key lookup. Absolute milliseconds are printed too, for context only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "network.settings"
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/seed_reports_bench")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
PASSWORD = "bench-password-2026"
BATCH = 1_000_000


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    if "bench" not in name:
        sys.exit(f"refusing to run on {name!r}: the bench empties tables; use a database named *bench*")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def median_ms(run: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def column_defaults(model: type, given: set[str]) -> tuple[list[str], list[object]]:
    """Columns the INSERT does not compute, with each field's default prepared for the database."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        default = field.get_default()
        columns.append(field.column)
        values.append(field.get_db_prep_save(default, connection))
    return columns, values


def setup_network(args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from affiliates.models import Affiliate, AffiliateMembership, Enrollment, TrackingLink
    from merchants.models import Merchant, MerchantMembership, Program
    from network.models import Membership, Network

    network, _ = Network.objects.get_or_create(slug="reports-bench", defaults={"name": "Reports bench"})
    Network.objects.filter(pk=network.pk).update(time_zone="UTC")
    users = get_user_model().objects
    logins = {}
    for role in ("staff", "merchant", "affiliate"):
        email = f"{role}@reports-bench.example"
        user = users.filter(email=email).first() or users.create_user(username=email, email=email, password=PASSWORD)
        logins[role] = user
    Membership.objects.get_or_create(network=network, user=logins["staff"], defaults={"role": Membership.Role.OWNER})
    merchants = [Merchant.objects.get_or_create(network=network, name=f"Bench merchant {i}")[0] for i in range(5)]
    MerchantMembership.objects.get_or_create(network=network, merchant=merchants[0], user=logins["merchant"],
                                             defaults={"role": MerchantMembership.Role.ADMIN})
    programs = []
    for index in range(args.programs):
        program, _ = Program.objects.get_or_create(
            network=network, merchant=merchants[index % len(merchants)], name=f"Bench program {index}",
            defaults={"landing_url": "https://shop.example.com/", "allowed_domains": ["shop.example.com"],
                      "currency": "USD", "status": Program.Status.ACTIVE})
        programs.append(program)
    affiliate_count = max(args.links // 5, 1)
    affiliates = [Affiliate.objects.get_or_create(network=network, name=f"Bench affiliate {i}")[0]
                  for i in range(affiliate_count)]
    AffiliateMembership.objects.get_or_create(network=network, affiliate=affiliates[0], user=logins["affiliate"],
                                              defaults={"role": AffiliateMembership.Role.OWNER})
    if TrackingLink.objects.for_network(network).count() < args.links:
        for number in range(args.links):
            affiliate = affiliates[number // 5 % len(affiliates)]
            program = programs[number % len(programs)]
            enrollment, _ = Enrollment.objects.get_or_create(
                network=network, program=program, affiliate=affiliate,
                defaults={"status": Enrollment.Status.APPROVED, "accepted_terms_version": 1})
            TrackingLink.objects.get_or_create(network=network, enrollment=enrollment, program=program,
                                               affiliate=affiliate, label=f"bench-{number}")
    return {"network": network, "logins": logins, "program": programs[0], "affiliate": affiliates[0]}


def generate(network_id: int, clicks: int, days: int, start: datetime, offset: int = 0) -> float:
    """Insert clicks set-based; returns seconds. Each link has one sub1, a main country, two devices."""
    from django.db import connection, transaction

    from tracking.models import Click

    given = {"network_id", "click_id", "created_at", "link_id", "program_id", "affiliate_id", "sub1", "country",
             "device", "is_unique", "visitor_hash"}
    extra_columns, extra_values = column_defaults(Click, given)
    placeholders = ", ".join(["%s"] * len(extra_values))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_links")
        cursor.execute("CREATE TEMP TABLE bench_links AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, "
                       "program_id, affiliate_id FROM affiliates_trackinglink WHERE network_id = %s", [network_id])
        cursor.execute("SELECT count(*) FROM bench_links")
        links = cursor.fetchone()[0]
        seconds = days * 86400
        for first in range(1 + offset, clicks + offset + 1, BATCH):
            last = min(first + BATCH - 1, clicks + offset)
            with transaction.atomic():
                cursor.execute(
                    f"INSERT INTO tracking_click (network_id, click_id, created_at, link_id, program_id, affiliate_id, "
                    f"sub1, country, device, is_unique, visitor_hash, {', '.join(extra_columns)}) "
                    f"SELECT %s, 'bench' || g, %s::timestamptz + ((g::bigint * 104729) %% %s) * interval '1 second', "
                    f"l.id, l.program_id, l.affiliate_id, "
                    f"(ARRAY['homepage','sidebar','newsletter','review','video'])[1 + l.n %% 5], "
                    f"(ARRAY['US','DE','VN','FR','GB','IN','BR','JP'])[1 + (l.n + CASE WHEN g %% 10 = 0 THEN g %% 8 "
                    f"ELSE 0 END) %% 8], CASE WHEN g %% 3 = 0 THEN 'desktop' ELSE 'mobile' END, g %% 10 <> 0, "
                    f"md5(g::text)::varchar(32), {placeholders} "
                    f"FROM generate_series(%s, %s) AS g JOIN bench_links l ON l.n = (g::bigint * 7919) %% %s",
                    [network_id, start, seconds, *extra_values, first, last, links])
            print(f"  clicks {last - offset:>12,} inserted", flush=True)
    return time.perf_counter() - started


def generate_conversions(network_id: int) -> int:
    """One conversion per 50th click, ten minutes later; statuses approved/pending/hold/reversed/paid."""
    from django.db import connection

    from tracking.models import Conversion

    given = {"network_id", "program_id", "merchant_id", "affiliate_id", "click_id", "link_id", "order_id",
             "amount_minor", "currency", "commission_minor", "status", "sub1", "occurred_at", "lock_until",
             "created_at", "updated_at"}
    extra_columns, extra_values = column_defaults(Conversion, given)
    placeholders = ", ".join(["%s"] * len(extra_values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tracking_conversion (network_id, program_id, merchant_id, affiliate_id, click_id, link_id, "
            f"order_id, amount_minor, currency, commission_minor, status, sub1, occurred_at, lock_until, created_at, "
            f"updated_at, {', '.join(extra_columns)}) "
            f"SELECT c.network_id, c.program_id, p.merchant_id, c.affiliate_id, c.id, c.link_id, 'bench-' || c.id, "
            f"5000 + (c.id %% 20) * 500, p.currency, 500 + (c.id %% 20) * 50, "
            f"(ARRAY['approved','pending','hold','reversed','paid','approved','pending'])[1 + (c.id / 50) %% 7], "
            f"c.sub1, c.created_at + interval '10 minutes', c.created_at + interval '30 days', "
            f"c.created_at + interval '10 minutes', c.created_at + interval '10 minutes', {placeholders} "
            f"FROM tracking_click c JOIN merchants_program p ON p.id = c.program_id "
            f"WHERE c.network_id = %s AND c.id %% 50 = 0",
            [*extra_values, network_id])
        return cursor.rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=float, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the clicks of a previous run of the same size")
    args = parser.parse_args()
    clicks = int(args.clicks)
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from merchants.models import Program
    from reports import services
    from reports.models import DailyRollup, HourlyRollup
    from tracking.models import Click, Conversion

    call_command("migrate", verbosity=0)
    context = setup_network(args)
    network = context["network"]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=args.days)
    print(f"reports bench: {clicks:,} clicks over {args.days} days, {args.links} links, {args.programs} programs "
          f"(PostgreSQL {connection.pg_version // 10000}, database {connection.settings_dict['NAME']})")

    if not (args.reuse and Click.objects.filter(network=network).count() == clicks):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tracking_conversion, tracking_click, reports_hourlyrollup, reports_dailyrollup, "
                           "reports_rollupcursor RESTART IDENTITY CASCADE")
        insert_seconds = generate(network.pk, clicks, args.days, start)
        conversions = generate_conversions(network.pk)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tracking_click; ANALYZE tracking_conversion")
        print(f"  generated in {insert_seconds:.1f} s; {conversions:,} conversions")
        started = time.perf_counter()
        services.rebuild_rollups(now=now + timedelta(hours=1))
        build_seconds = time.perf_counter() - started
    else:
        build_seconds = float("nan")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_hourlyrollup; ANALYZE reports_dailyrollup")
    hourly, daily = HourlyRollup.objects.count(), DailyRollup.objects.count()
    print(f"  rollups: {hourly:,} hourly rows, {daily:,} daily rows; full build {build_seconds:.1f} s")

    # Baselines, measured now, on this machine and connection.
    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    program_pk = context["program"].pk
    baseline_select = median_ms(select_one, 200)
    baseline_pk = median_ms(lambda: Program.objects.get(pk=program_pk), 200)

    # Incremental refresh: 10 000 clicks arrive in the current hour.
    generate(network.pk, 10_000, 1, now - timedelta(hours=1), offset=clicks + 1)
    started = time.perf_counter()
    services.refresh_rollups(now=now + timedelta(hours=1))
    incremental_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    services.refresh_rollups(now=now + timedelta(hours=1))
    noop_ms = (time.perf_counter() - started) * 1000

    results: list[tuple[str, float, int]] = []
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)  # else each request empties the log the counter reads

    def measure(label: str, role: str, path: str) -> None:
        client = Client()
        client.force_login(context["logins"][role])
        response = client.get(path)  # warm: session, caches, plans
        assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        results.append((label, median_ms(lambda: client.get(path), args.repeat), len(queries)))

    from django.conf import settings
    from django.test.utils import override_settings

    # Pages render {% static %}; without collectstatic's manifest, plain storage (same cost per URL).
    plain_static = override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    plain_static.enable()
    for zone in ("UTC", "Asia/Ho_Chi_Minh"):
        type(network).objects.filter(pk=network.pk).update(time_zone=zone)
        suffix = "daily rollups" if zone == "UTC" else "hourly rollups, local days"
        measure(f"affiliate dashboard, 30 days ({suffix})", "affiliate", "/portal/reports/")
        measure(f"merchant dashboard, 30 days ({suffix})", "merchant", "/merchant/reports/")
        measure(f"console dashboard, 30 days ({suffix})", "staff", "/console/reports/")
        measure(f"API group_by=day, staff ({suffix})", "staff", "/api/v1/reports/performance/?group_by=day")
        measure(f"API group_by=link, staff ({suffix})", "staff",
                "/api/v1/reports/performance/?group_by=link&page_size=500")
    type(network).objects.filter(pk=network.pk).update(time_zone="UTC")

    print(f"\nbaseline: SELECT 1 round trip {baseline_select:.3f} ms; primary-key lookup {baseline_pk:.3f} ms")
    print(f"{'what':<62} {'queries':>7} {'× SELECT 1':>11} {'× pk lookup':>12} {'ms':>9}")
    rows = [("incremental refresh after 10,000 new clicks", incremental_ms, -1),
            ("refresh with nothing new (rerun)", noop_ms, -1), *results]
    for label, ms, queries in rows:
        shown = "" if queries < 0 else str(queries)
        print(f"{label:<62} {shown:>7} {ms / baseline_select:>11,.0f} {ms / baseline_pk:>12,.1f} {ms:>9.1f}")
    print(f"\nran: --clicks {clicks} --days {args.days} --links {args.links} --programs {args.programs} "
          f"--repeat {args.repeat}; conversions {Conversion.objects.filter(network=network).count():,}")


if __name__ == "__main__":
    main()
