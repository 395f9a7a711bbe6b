"""Click and conversion-ingest benchmark: figures as ratios against a bare 302 view measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seed_bench .venv/bin/python bench/clicks.py [--requests 3000]

Without DATABASE_URL it uses a throw-away SQLite file. It drives Django's WSGI application in-process
(production settings: DEBUG off, the real middleware stack), alternating rounds of
  - baseline: a bare view under /t/ (same middleware bypass as the click path) answering 302 + cookie,
  - click:    GET /c/<code> over many links (cached link, one INSERT per click, autocommit),
  - ingest:   POST /api/v1/conversions/ with a merchant key (idempotency included),
and prints requests/s, p50/p99 latency and the ratios, then checks stored clicks == 302s with a click id.
A WSGI loop measures the application's own cost; a gunicorn + wrk run adds the HTTP server's, which is
the same for both sides of each ratio.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "network.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ["DEBUG"] = "0"
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/seed-bench-clicks.sqlite3")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
os.environ.setdefault("API_RATE_LIMIT_PER_MINUTE", "100000000")  # the throttle is not what is measured

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

import network.urls  # noqa: E402


def bare_302(request: HttpRequest) -> HttpResponse:
    """The baseline: what any Django view costs to answer a redirect with a cookie."""
    response = HttpResponseRedirect("https://shop.example.com/?x=1")
    response.set_cookie("bench", "1", max_age=86400)
    return response


network.urls.urlpatterns.insert(0, path("t/bench-302", bare_302))
clear_url_caches()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()


def setup_data(link_count: int) -> tuple[list[str], str, int]:
    """A bench network with one program, `link_count` links, and a merchant API key (idempotent)."""
    from tests import factories
    from tracking.models import Click, Conversion

    call_command("migrate", verbosity=0)
    network = factories.Network.objects.filter(slug="bench").first()
    if network is None:
        network = factories.NetworkFactory(slug="bench", name="Bench")
    run = secrets.token_hex(4)  # factory sequences restart per process: keep this run's names apart
    membership = factories.MerchantMembershipFactory(merchant__network=network, merchant__name=f"Bench {run}",
                                                     user__email=f"bench-{run}@example.test")
    program = factories.ProgramFactory(merchant=membership.merchant, min_seconds_to_convert=0, name=f"Bench {run}")
    factories.CommissionRuleFactory(program=program)
    factories.ProgramTermsFactory(program=program)
    affiliate = factories.AffiliateFactory(network=network, name=f"Bench {run}")
    enrollment = factories.EnrollmentFactory(program=program, affiliate=affiliate, network=network)
    codes = [factories.TrackingLinkFactory(enrollment=enrollment).code for _ in range(link_count)]
    key = factories.api_key_for(network=network, user=membership.user, kind="merchant",
                                actor_id=membership.merchant.pk)
    Conversion.objects.filter(program=program).delete()
    Click.objects.filter(program=program).delete()
    return codes, key, program.pk


def call(method: str, path_info: str, query: str = "", body: bytes = b"", headers: dict | None = None,
         remote: str = "81.2.69.142") -> tuple[str, dict[str, str]]:
    """One WSGI request; returns the status line and the response headers."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path_info, "QUERY_STRING": query, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "HTTP_HOST": "localhost", "REMOTE_ADDR": remote, "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "wsgi.errors": sys.stderr,
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    environ.update(headers or {})
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, dict(response_headers)

    result = application(environ, start_response)
    for _ in result:
        pass
    if hasattr(result, "close"):
        result.close()
    return captured["status"], captured["headers"]


def run_round(kind: str, count: int, codes: list[str], key: str, program_id: int, state: dict) -> list[float]:
    latencies: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        if kind == "baseline":
            status, _ = call("GET", "/t/bench-302")
        elif kind == "click":
            state["n"] += 1
            # A different visitor per request, so the duplicate-click screen never short-cuts the INSERT.
            status, headers = call("GET", f"/c/{codes[i % len(codes)]}", "sub1=bench",
                                   remote=f"10.{(state['n'] >> 16) & 255}.{(state['n'] >> 8) & 255}.{state['n'] & 255}")
            if status.startswith("302") and parse_qs(urlsplit(headers["Location"]).query).get("aff_click"):
                state["with_id"] += 1
        else:
            state["orders"] += 1
            payload = (f'{{"program": {program_id}, "order_id": "B-{state["orders"]}", "amount": "10.00", '
                       f'"currency": "USD"}}').encode()
            status, _ = call("POST", "/api/v1/conversions/", body=payload,
                             headers={"CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Bearer {key}"})
        latencies.append(time.perf_counter() - started)
        if not status.startswith(("200", "201", "302")):
            raise SystemExit(f"{kind} request failed: {status}")
    return latencies


def summarise(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"rps": len(ordered) / sum(ordered), "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per kind (split into rounds)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--links", type=int, default=200)
    args = parser.parse_args()
    from tracking.models import Click

    codes, key, program_id = setup_data(args.links)
    state = {"n": 0, "with_id": 0, "orders": 0}
    per_round = max(1, args.requests // args.rounds)
    for kind in ("baseline", "click", "ingest"):  # warm-up: caches, connections, first-use imports
        run_round(kind, 50, codes, key, program_id, state)
    results: dict[str, list[float]] = {"baseline": [], "click": [], "ingest": []}
    for _ in range(args.rounds):  # alternating, so drift (other load, CPU boost) hits all kinds alike
        for kind in results:
            results[kind].extend(run_round(kind, per_round, codes, key, program_id, state))
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"engine={db} cache={settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} "
          f"python={sys.version.split()[0]} cpus={os.cpu_count()} requests/kind={per_round * args.rounds}")
    base = summarise(results["baseline"])
    for kind, latencies in results.items():
        figures = summarise(latencies)
        print(f"{kind:9s} {figures['rps']:8.0f} req/s  p50 {figures['p50']:6.2f} ms  p99 {figures['p99']:6.2f} ms  "
              f"throughput ×{figures['rps'] / base['rps']:.2f}  p99 ×{figures['p99'] / base['p99']:.2f}")
    stored = Click.objects.filter(program_id=program_id).count()
    print(f"clicks stored {stored} == 302s with a click id {state['with_id']}: {stored == state['with_id']}")
    if stored != state["with_id"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
