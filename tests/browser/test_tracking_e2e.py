"""Done-when of tracking: click a link, land on a merchant page with tracker.js, order, see it pending in the portal.

The merchant shop is a tiny http.server on a free local port reached as http://shop.test:<port>/ through
Chromium's host resolver rules, so the click id really crosses from the tracking host to another site,
lives in the shop's own first-party cookie and comes back through tracker.js's beacon to /t/pixel.gif.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from merchants.models import Program
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path, log_in, screenshot
from tests.tracking.factories import BROWSER_UA, link_for
from tracking.models import Click, Conversion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDER_ID = "SHOP-1001"


class Shop:
    """The merchant's site: a landing page and a thank-you page, both loading tracker.js from the network."""

    def __init__(self) -> None:
        self.tracker_src = ""
        self.program_id = 0
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                script = (f'<script src="{shop.tracker_src}" data-program="{shop.program_id}" '
                          f'data-param="aff_click" data-days="30"></script>')
                if self.path.startswith("/thanks"):
                    order = json.dumps({"order_id": ORDER_ID, "amount": "80.00", "currency": "USD"})
                    body = (f"<html><body><h1>Thank you for your order</h1>{script}"
                            f"<script>window.affq = window.affq || []; affq.push(['conversion', {order}]);"
                            f"</script></body></html>")
                else:
                    body = (f"<html><body><h1>Eco Shop</h1>{script}"
                            f'<a id="buy" href="/thanks">Buy the tent</a></body></html>')
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def shop() -> Iterator[Shop]:
    instance = Shop()
    yield instance
    instance.server.shutdown()


@pytest.fixture(scope="session")
def shop_browser(browser: object) -> Iterator[object]:
    # A second Chromium from the same Playwright (a second sync_playwright() in one thread is refused).
    instance = browser.browser_type.launch(  # type: ignore[attr-defined]
        executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, "--host-resolver-rules=MAP shop.test 127.0.0.1"])
    yield instance
    instance.close()


def wait_for(predicate, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the condition")


def test_click_land_order_and_see_it_pending_in_the_portal(shop_browser, shop, live_server, tenant):
    Program.objects.filter(pk=tenant.program.pk).update(
        allowed_domains=["shop.test"], landing_url=f"http://shop.test:{shop.port}/", min_seconds_to_convert=0,
        cache_version=tenant.program.cache_version + 1)
    shop.tracker_src, shop.program_id = f"{live_server.url}/t/tracker.js", tenant.program.pk
    link = link_for(tenant, sub1="stored")

    # A real browser user agent: headless Chromium's own one is (rightly) screened as a bot.
    context = shop_browser.new_context(base_url=live_server.url, locale="en-US", user_agent=BROWSER_UA)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"/c/{link.code}?sub1=spring&sub2=e2e")
        assert page.url.startswith(f"http://shop.test:{shop.port}/?aff_click=")
        click = Click.objects.get()
        assert (click.sub1, click.sub2) == ("spring", "e2e")
        wait_for(lambda: any(c["name"] == f"_aff_{tenant.program.pk}" and c["value"] == click.click_id
                             for c in context.cookies(f"http://shop.test:{shop.port}/")))
        screenshot(page, "tracking-e2e-landing")

        page.click("#buy")
        page.wait_for_load_state("networkidle")
        wait_for(lambda: Conversion.objects.filter(order_id=ORDER_ID).exists())
        conversion = Conversion.objects.get(order_id=ORDER_ID)
        assert (conversion.status, conversion.source, conversion.affiliate_id, conversion.click_id) == (
            "pending", "pixel", tenant.affiliate.pk, click.pk)
        assert (conversion.sub1, conversion.sub2, conversion.amount_minor, conversion.commission_minor) == (
            "spring", "e2e", 8000, 800)

        log_in(page, tenant.affiliate_user.email)
        page.goto("/portal/conversions/")
        row = page.locator("tr", has_text=ORDER_ID)
        assert row.count() == 1
        assert "spring · e2e" in row.inner_text()
        assert "Pending" in row.inner_text()
        assert "8.00 USD" in row.inner_text()  # major units, never "800 USD"
        row.locator("summary").first.click()
        explanation = row.locator("details pre").first.inner_text()
        assert '"source": "program_rule"' in explanation or '"source":"program_rule"' in explanation
        assert "click_id" in explanation
        screenshot(page, "tracking-e2e-portal-conversion")
    finally:
        context.close()
