"""Staff review and approve a payout batch in the console; the sandbox pays it."""

import pytest

from payouts import payout_services
from payouts.models import Payout
from tests.browser.conftest import log_in, screenshot
from tests.payouts.payout_helpers import NOW, earn, profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_approve_a_batch_and_the_sandbox_pays(page, tenant):
    profile(tenant)
    earn(tenant, 6000)
    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    log_in(page, tenant.owner.email)
    page.goto("/console/payouts/")
    page.click(f"text={batch.period_key}")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=batch-status]").inner_text() == "In review"
    screenshot(page, "console-payout-batch-review")
    page.click("[data-testid=approve-batch]")
    page.wait_for_load_state("networkidle")

    assert page.locator(".messages li.success").inner_text() == "Batch approved; payouts are being sent."
    assert page.locator("[data-testid=batch-status]").inner_text() == "Completed"
    assert Payout.objects.get().status == "paid"
    screenshot(page, "console-payout-batch-approved")
