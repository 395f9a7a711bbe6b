"""Click and conversion-ingest benchmark against the real server: figures as ratios to a bare 302 view.

    apt-get install -y wrk        # the load generator (Debian package)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seed_perf_bench CACHE_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/clicks.py [--duration 8] [--rounds 3] [--connections 32]

What it does, loopback only and bounded (rounds × 3 kinds × duration seconds, plus setup):
  1. creates the database if missing, migrates, and makes a bench network: one program, --links links,
     a merchant API key and a few hundred clicks for the conversions to credit;
  2. starts gunicorn (network/gunicorn.conf.py: gthread workers) with production settings — DEBUG=0,
     a SECRET_KEY, PostgreSQL, Redis — plus the bare baseline view (bench.settings → bench/urls.py:
     the bench endpoint never exists in production);
  3. alternates rounds of wrk, same connections and duration for each kind:
       baseline  GET /t/bench-302       a bare Django view answering 302 + Set-Cookie
       click     GET /c/<code>?sub1=…   over all links, each request from its own X-Forwarded-For
                                        address (a distinct visitor, so every click is unique and stored)
       ingest    POST /api/v1/conversions/  unique order ids, every 10th a replay of an earlier order
                                        (answered 200 with the same conversion: idempotency included)
  4. prints requests/s, p50 and p99 per kind (mean over rounds) and the ratios to the baseline;
  5. checks that every click id wrk read in a 302 is stored; wrk abandons the requests in flight when a
     round ends, so up to --connections rows per round are stored whose answer wrk never read; hence an
     exact phase: Python clients that read every answer send 800 more clicks, and the clicks stored for
     them must equal the 302s with a click id they received, id for id. Conversions stored must equal
     the 201s, up to the same in-flight bound. With --kill-worker, one worker is SIGKILLed in the middle of a click round:
     every acknowledged click must still be stored (rows committed but not answered are reported).
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/seed_perf_bench")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("CELERY_BROKER_URL", os.environ["CACHE_URL"])
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
os.environ.setdefault("API_RATE_LIMIT_PER_MINUTE", "100000000")  # the throttle is not what is measured
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")

LUA_COMMON = r"""
local counter = 0
local tid = 0
local statuses = {}
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  statuses = {}
  on_init(args)
end
function count(status)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local line = thread:get("statuses_line") or ""
    for code, n in string.gmatch(line, "(%d+)=(%d+)") do
      totals[code] = (totals[code] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for code, n in pairs(totals) do table.insert(parts, code .. "=" .. n) end
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
function publish()
  local parts = {}
  for code, n in pairs(statuses) do table.insert(parts, code .. "=" .. n) end
  wrk.thread:set("statuses_line", table.concat(parts, " "))
end
"""

LUA_BASELINE = LUA_COMMON + r"""
local headers = {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"}
function on_init(args) end
function request()
  counter = counter + 1
  return wrk.format("GET", "/t/bench-302", headers)
end
function response(status, headers, body)
  count(status)
  if counter % 50 == 0 then publish() end
end
"""

LUA_CLICK = LUA_COMMON + r"""
local codes = {}
local ids = nil
local round = "0"
function on_init(args)
  round = args[1]
  for code in io.lines(args[2]) do table.insert(codes, code) end
  ids = io.open(args[3] .. "/ids-" .. round .. "-" .. tid .. ".txt", "w")
  ids:setvbuf("line")  -- wrk exits without closing files: nothing may stay in a buffer
end
function request()
  counter = counter + 1
  local code = codes[(counter % #codes) + 1]
  -- A distinct visitor per request: 10.<round><thread>.<counter> spread over the address space.
  local ip = string.format("%d.%d.%d.%d", 11 + tid, tonumber(round) % 250, math.floor(counter / 250) % 250, counter % 250)
  return wrk.format("GET", "/c/" .. code .. "?sub1=bench&sub2=r" .. round,
    {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
     ["X-Forwarded-For"] = ip .. "." .. counter})
end
function response(status, headers, body)
  count(status)
  local location = headers["Location"] or headers["location"] or ""
  local id = string.match(location, "[?&]aff_click=([%w_%-]+)")
  if status == 302 and id then
    ids:write(id, "\n")
    statuses["id"] = (statuses["id"] or 0) + 1
  end
  if counter % 50 == 0 then publish() end
end
"""

LUA_INGEST = LUA_COMMON + r"""
local key, program, run = "", "", ""
local clicks = {}
function on_init(args)
  key, program, run = args[1], args[2], args[3]
  for id in io.lines(args[4]) do table.insert(clicks, id) end
end
function request()
  counter = counter + 1
  local n = counter
  if counter % 10 == 0 and counter > 20 then n = counter - 15 end  -- a replay of an earlier order
  local body = string.format('{"program": %s, "order_id": "%s-%d-%d", "amount": "25.00", "currency": "USD", ' ..
    '"click_id": "%s"}', program, run, tid, n, clicks[(n % #clicks) + 1])
  return wrk.format("POST", "/api/v1/conversions/",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  count(status)
  publish()  -- every response: the 201s are compared with the stored conversions
end
"""


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def ensure_database() -> None:
    """CREATE DATABASE for the bench when it does not exist (PostgreSQL only)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        fail("bench/clicks.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    admin = psycopg.connect(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432,
                            user=config["USER"] or "postgres", password=config["PASSWORD"] or None,
                            dbname="postgres", autocommit=True)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def setup_data(link_count: int, click_count: int) -> tuple[list[str], str, int, list[str]]:
    """A bench network: one program with `link_count` links, a merchant key and `click_count` stored clicks."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from tests import factories
    from tracking import clicks
    from tracking.models import Click

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
    links = [factories.TrackingLinkFactory(enrollment=enrollment) for _ in range(link_count)]
    key = factories.api_key_for(network=network, user=membership.user, kind="merchant",
                                actor_id=membership.merchant.pk)
    created = timezone.now() - timezone.timedelta(hours=1)
    seeded = Click.objects.bulk_create([
        Click(network=network, link=links[i % len(links)], program=program, affiliate=affiliate, created_at=created,
              visitor_hash=secrets.token_hex(16), ip_hash=secrets.token_hex(16), device="desktop", sub1="seed")
        for i in range(click_count)])
    clicks.clear_link_cache()
    connections.close_all()
    return [link.code for link in links], key, program.pk, [click.click_id for click in seeded]


def start_server(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers),
               GUNICORN_THREADS=str(threads), GUNICORN_LOG_LEVEL="warning")
    env.pop("GUNICORN_ACCESS_LOG", None)
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) or shutil.which("gunicorn")
    if gunicorn is None:
        fail("gunicorn is not installed (.venv/bin/pip install -e .)")
    server = subprocess.Popen([gunicorn, "-c", str(ROOT / "network" / "gunicorn.conf.py"), "network.wsgi"],
                              cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"gunicorn exited: see {log}\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/t/tracker.js", timeout=1).read()
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.terminate()
    fail(f"gunicorn did not answer within 30 s: see {log}")
    raise AssertionError  # unreachable


def worker_pids(server: subprocess.Popen) -> list[int]:
    output = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in output.split()]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(script: Path, url: str, args: list[str], *, duration: int, connections: int, threads: int,
            kill: subprocess.Popen | None = None) -> dict[str, float | dict[str, int]]:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
               "--timeout", "10s", "-s", str(script), url, "--", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if kill is not None:
        time.sleep(duration / 2)
        victims = worker_pids(kill)
        if victims:
            os.kill(victims[0], signal.SIGKILL)
            print(f"  killed worker {victims[0]} mid-round")
    output, _ = process.communicate(timeout=duration + 60)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    statuses_line = re.search(r"^STATUSES(.*)$", output, re.MULTILINE)
    if not (rps and p50 and p99 and statuses_line):
        fail(f"could not read wrk's output:\n{output}")
    statuses = {code: int(n) for code, n in re.findall(r"(\w+)=(\d+)", statuses_line.group(1))}
    errors = re.search(r"Socket errors: (.*)", output)
    return {"rps": float(rps.group(1)), "p50": _ms(p50.group(1)), "p99": _ms(p99.group(1)), "statuses": statuses,
            "socket_errors": errors.group(1) if errors else ""}


def exact_phase(url: str, codes: list[str], *, threads: int, per_thread: int) -> list[str]:
    """Clicks sent by Python clients that read every answer: the click ids of every 302 served."""
    import http.client
    import threading

    host, port = url.removeprefix("http://").split(":")
    carried: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        for i in range(per_thread):
            code = codes[(number * per_thread + i) % len(codes)]
            connection.request("GET", f"/c/{code}?sub1=bench&sub2=exact", headers={
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36",
                "X-Forwarded-For": f"172.{16 + number % 16}.{i // 250}.{i % 250}"})
            response = connection.getresponse()
            response.read()
            found = re.search(r"[?&]aff_click=([\w-]+)", response.getheader("Location") or "")
            if response.status == 302 and found:
                with lock:
                    carried.append(found.group(1))
        connection.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return carried


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections, same for every kind")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--port", type=int, default=8761)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads per worker")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL a worker mid-way through a click round")
    parser.add_argument("--kinds", default="baseline,click,ingest")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        fail("wrk is missing: install it with `apt-get install -y wrk` (Debian package)")

    ensure_database()
    codes, key, program_id, seeded_clicks = setup_data(args.links, 500)
    work = Path(tempfile.mkdtemp(prefix="bench-clicks-"))
    (work / "codes.txt").write_text("\n".join(codes) + "\n")
    (work / "clicks.txt").write_text("\n".join(seeded_clicks) + "\n")
    scripts = {"baseline": work / "baseline.lua", "click": work / "click.lua", "ingest": work / "ingest.lua"}
    scripts["baseline"].write_text(LUA_BASELINE)
    scripts["click"].write_text(LUA_CLICK)
    scripts["ingest"].write_text(LUA_INGEST)
    kinds = [kind for kind in args.kinds.split(",") if kind]
    server = start_server(args.port, args.workers, args.threads, work / "gunicorn.log")
    url = f"http://127.0.0.1:{args.port}"
    run = secrets.token_hex(3)
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    try:
        for kind in kinds:  # warm-up: imports, connections, caches, not counted (its ids are, below)
            extra = {"baseline": [], "click": ["0", str(work / "codes.txt"), str(work)],
                     "ingest": [key, str(program_id), f"{run}w", str(work / "clicks.txt")]}[kind]
            run_wrk(scripts[kind], url, extra, duration=2, connections=args.connections, threads=args.wrk_threads)
        for round_number in range(1, args.rounds + 1):  # alternating, so drift hits every kind alike
            for kind in kinds:
                extra = {"baseline": [], "click": [str(round_number), str(work / "codes.txt"), str(work)],
                         "ingest": [key, str(program_id), f"{run}r{round_number}", str(work / "clicks.txt")]}[kind]
                kill = server if (args.kill_worker and kind == "click" and round_number == 1) else None
                figures = run_wrk(scripts[kind], url, extra, duration=args.duration, connections=args.connections,
                                  threads=args.wrk_threads, kill=kill)
                results[kind].append(figures)
                print(f"  round {round_number} {kind:8s} {figures['rps']:8.0f} req/s  p50 {figures['p50']:7.2f} ms  "
                      f"p99 {figures['p99']:7.2f} ms  {figures['statuses']} {figures['socket_errors']}")
        exact = exact_phase(url, codes, threads=args.connections // 2 or 1, per_thread=50) \
            if "click" in kinds else []
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    import django
    from django.conf import settings
    from django.db import connections

    from tracking.models import Click, Conversion

    connections.close_all()
    print(f"\nserver: gunicorn gthread {args.workers} workers × {args.threads} threads, DEBUG={settings.DEBUG}, "
          f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; wrk -t{args.wrk_threads} "
          f"-c{args.connections}, {args.rounds} rounds × {args.duration} s per kind, alternating; "
          f"python {sys.version.split()[0]}, django {django.get_version()}, {os.cpu_count()} CPUs "
          f"({cpu_model()})")
    summary = {kind: {name: statistics.mean(r[name] for r in rounds) for name in ("rps", "p50", "p99")}
               for kind, rounds in results.items() if rounds}
    base = summary.get("baseline")
    print(f"{'kind':10s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s ×':>8s} {'p99 ×':>7s}")
    for kind, figures in summary.items():
        ratio = f"{figures['rps'] / base['rps']:8.2f} {figures['p99'] / base['p99']:7.2f}" if base else ""
        print(f"{kind:10s} {figures['rps']:8.0f} {figures['p50']:8.2f} {figures['p99']:8.2f} {ratio}")

    ok = True
    if "click" in kinds:
        acked: set[str] = set()
        lines = 0
        for path in work.glob("ids-*.txt"):
            for line in path.read_text().split():
                acked.add(line)
                lines += 1
        program_clicks = Click.objects.filter(program_id=program_id).exclude(sub1="seed")
        stored = set(program_clicks.exclude(sub2="exact").values_list("click_id", flat=True))
        missing = acked - stored
        # wrk stops mid-flight at the end of each round: rows committed for requests whose answer wrk no
        # longer read are "stored, never read" — at most the connections per round (+ a killed worker's).
        unread = stored - acked
        print(f"wrk clicks: 302s with a click id read {lines} (distinct {len(acked)}), stored {len(stored)}, "
              f"acknowledged but missing {len(missing)}, stored but answer not read by wrk {len(unread)}")
        exact_stored = set(program_clicks.filter(sub2="exact").values_list("click_id", flat=True))
        print(f"exact check ({len(exact)} clicks from clients that read every answer): stored {len(exact_stored)} "
              f"== 302s with a click id {len(exact)}: {exact_stored == set(exact) and len(exact) == len(set(exact))}")
        bound = args.connections * (len(results["click"]) + 1) + (args.threads if args.kill_worker else 0)
        if missing or lines != len(acked) or len(unread) > bound or exact_stored != set(exact):
            ok = False
    if "ingest" in kinds:
        created = sum(r["statuses"].get("201", 0) for r in results["ingest"])
        replays = sum(r["statuses"].get("200", 0) for r in results["ingest"])
        stored_conversions = Conversion.objects.filter(program_id=program_id).exclude(
            order_id__startswith=f"{run}w").count()
        # As for clicks: conversions created for requests whose answer wrk stopped reading at a round's end.
        bound = args.connections * len(results["ingest"])
        print(f"conversions: 201 created {created}, 200 replays {replays}, stored {stored_conversions} "
              f"(answers not read by wrk at round ends: {stored_conversions - created}, at most {bound})")
        if not created <= stored_conversions <= created + bound:
            ok = False
    print("checks:", "PASS" if ok else "FAIL")
    if not ok:
        raise SystemExit(1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
