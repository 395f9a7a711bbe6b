"""The domain emits its webhook events in the transaction of the change, once per change."""

import pytest

from affiliates import services as affiliate_services
from affiliates.models import Enrollment
from merchants.models import Program
from payouts import payout_services
from tests import factories
from tests.payouts.payout_helpers import NOW, earn, profile
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


def events(network, event_type):
    return list(OutboxEvent.objects.for_network(network).filter(event_type=event_type).values_list("payload", flat=True))


def test_applying_to_a_manual_program_emits_created_and_approval_emits_approved(tenant):
    program = factories.ProgramFactory(merchant=tenant.merchant, approval=Program.Approval.MANUAL)
    enrollment, _ = affiliate_services.apply_to_program(network=tenant.network, affiliate_id=tenant.affiliate.pk,
                                                        program_id=program.pk)
    assert [e["id"] for e in events(tenant.network, "enrollment.created")] == [enrollment.pk]
    assert events(tenant.network, "enrollment.approved") == []

    affiliate_services.approve_enrollment(network=tenant.network, enrollment_id=enrollment.pk, actor=tenant.merchant_user)

    (approved,) = events(tenant.network, "enrollment.approved")
    assert (approved["id"], approved["status"], approved["program"]) == (enrollment.pk, Enrollment.Status.APPROVED,
                                                                         program.pk)


def test_applying_again_while_pending_emits_nothing_new(tenant):
    program = factories.ProgramFactory(merchant=tenant.merchant, approval=Program.Approval.MANUAL)
    for _ in range(2):
        affiliate_services.apply_to_program(network=tenant.network, affiliate_id=tenant.affiliate.pk,
                                            program_id=program.pk)
    assert len(events(tenant.network, "enrollment.created")) == 1


def test_a_paid_payout_emits_payout_paid_once_and_a_failed_one_payout_failed(tenant):
    other = factories.AffiliateFactory(network=tenant.network)
    profile(tenant, tenant.affiliate, details={"behaviour": "succeed"})
    profile(tenant, other, details={"behaviour": "fail"})
    earn(tenant, 6000, affiliate=tenant.affiliate)
    earn(tenant, 7000, affiliate=other)
    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch
    payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=tenant.owner, now=NOW)

    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)

    (paid,) = events(tenant.network, "payout.paid")
    (failed,) = events(tenant.network, "payout.failed")
    assert (paid["affiliate"], paid["amount"], paid["currency"]) == (tenant.affiliate.pk, "60.00", "USD")
    assert (failed["affiliate"], failed["status"], failed["failure_reason"]) == (other.pk, "failed",
                                                                                 "Sandbox: told to fail.")
