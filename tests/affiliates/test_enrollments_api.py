"""Applications and enrollments through the API: apply, approve, reject, terms, outsiders."""

import pytest
from django.core import mail

from affiliates.models import Enrollment, EnrollmentEvent, TrackingLink
from merchants.models import Program
from tests import factories
from tests.affiliates.factories import ProgramInvitationFactory
from tests.affiliates.helpers import second_affiliate, second_merchant

pytestmark = pytest.mark.django_db


def test_apply_to_an_auto_program_is_approved_at_once_with_the_current_terms(tenant, affiliate_api):
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=3)

    response = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/",
                                  {"message": "I write about travel", "promotion_methods": ["content"]},
                                  format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "approved"
    assert body["accepted_terms_version"] == 3
    assert body["needs_terms_acceptance"] is False
    enrollment = Enrollment.objects.get(pk=body["id"])
    assert [e.action for e in enrollment.events.all()] == ["applied"]
    assert TrackingLink.objects.filter(enrollment=enrollment, label="Default").count() == 1


def test_apply_twice_returns_the_same_enrollment(tenant, affiliate_api):
    first = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")
    second = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert Enrollment.objects.count() == 1


def test_manual_program_waits_for_the_merchant_who_gets_an_email(tenant, affiliate_api, django_capture_on_commit_callbacks):
    Program.objects.filter(pk=tenant.program.pk).update(approval=Program.Approval.MANUAL)

    with django_capture_on_commit_callbacks(execute=True):
        response = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")

    assert response.json()["status"] == "pending"
    assert TrackingLink.objects.count() == 0
    assert [m.to for m in mail.outbox] == [[tenant.merchant_user.email]]


@pytest.mark.parametrize("change", [{"status": Program.Status.DRAFT}, {"visibility": Program.Visibility.PRIVATE}])
def test_apply_to_an_invisible_program_is_404_and_creates_nothing(tenant, affiliate_api, change):
    Program.objects.filter(pk=tenant.program.pk).update(**change)

    response = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")

    assert response.status_code == 404
    assert Enrollment.objects.count() == 0


def test_an_invited_affiliate_can_apply_to_a_private_program(tenant, affiliate_api):
    Program.objects.filter(pk=tenant.program.pk).update(visibility=Program.Visibility.PRIVATE)
    ProgramInvitationFactory(program=tenant.program, affiliate=tenant.affiliate)

    response = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")

    assert response.status_code == 201


def test_apply_to_another_networks_program_is_404(tenant, other_tenant, affiliate_api):
    response = affiliate_api.post(f"/api/v1/programs/{other_tenant.program.pk}/apply/", {}, format="json")

    assert response.status_code == 404
    assert Enrollment.objects.count() == 0


def test_apply_with_an_unknown_promotion_method_names_the_field(tenant, affiliate_api):
    response = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/",
                                  {"promotion_methods": ["spam"]}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["promotion_methods"]
    assert Enrollment.objects.count() == 0


def _pending(tenant):
    return factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                       status=Enrollment.Status.PENDING)


def test_merchant_approves_a_pending_enrollment(tenant, merchant_api, django_capture_on_commit_callbacks):
    enrollment = _pending(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_api.post(f"/api/v1/enrollments/{enrollment.pk}/approve/", {"reason": "Welcome"},
                                     format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    event = EnrollmentEvent.objects.get(enrollment=enrollment)
    assert (event.action, event.from_status, event.to_status, event.reason) == ("approved", "pending", "approved",
                                                                                 "Welcome")
    assert event.actor == tenant.merchant_user
    assert [m.to for m in mail.outbox] == [[tenant.affiliate_user.email]]


def test_reject_needs_a_reason_and_changes_nothing_without_one(tenant, merchant_api):
    enrollment = _pending(tenant)

    response = merchant_api.post(f"/api/v1/enrollments/{enrollment.pk}/reject/", {"reason": ""}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"
    assert EnrollmentEvent.objects.count() == 0


def test_staff_rejects_with_a_reason_and_the_affiliate_can_reapply(tenant, staff_api, affiliate_api):
    Program.objects.filter(pk=tenant.program.pk).update(approval=Program.Approval.MANUAL)
    enrollment = _pending(tenant)

    response = staff_api.post(f"/api/v1/enrollments/{enrollment.pk}/reject/", {"reason": "No website"},
                              format="json")
    again = affiliate_api.post(f"/api/v1/programs/{tenant.program.pk}/apply/", {}, format="json")

    assert response.json()["decision_reason"] == "No website"
    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    assert [e.action for e in EnrollmentEvent.objects.filter(enrollment=enrollment)] == ["rejected", "reapplied"]


def test_forbidden_transition_is_refused_and_changes_nothing(tenant, merchant_api):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)

    response = merchant_api.post(f"/api/v1/enrollments/{enrollment.pk}/reject/", {"reason": "x"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]
    enrollment.refresh_from_db()
    assert enrollment.status == "approved"


def test_suspend_and_reinstate(tenant, merchant_api):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)

    suspended = merchant_api.post(f"/api/v1/enrollments/{enrollment.pk}/suspend/", {"reason": "Brand bidding"},
                                  format="json")
    reinstated = merchant_api.post(f"/api/v1/enrollments/{enrollment.pk}/reinstate/", {}, format="json")

    assert suspended.json()["status"] == "suspended"
    assert reinstated.json()["status"] == "approved"
    assert [e.action for e in enrollment.events.all()] == ["suspended", "reinstated"]


def test_another_merchant_cannot_see_or_approve_the_enrollment(tenant):
    enrollment = _pending(tenant)
    _, _, rival_api = second_merchant(tenant)

    listed = rival_api.get("/api/v1/enrollments/")
    approve = rival_api.post(f"/api/v1/enrollments/{enrollment.pk}/approve/", {}, format="json")

    assert listed.json()["results"] == []
    assert approve.status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_another_network_gets_404(tenant, other_tenant):
    enrollment = _pending(tenant)
    outsider = other_tenant.client_for("staff")

    assert outsider.get(f"/api/v1/enrollments/{enrollment.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/enrollments/{enrollment.pk}/approve/", {}, format="json").status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == "pending"


def test_affiliates_read_only_their_own_and_cannot_decide(tenant, affiliate_api):
    mine = _pending(tenant)
    other_affiliate, other_api = second_affiliate(tenant)
    theirs = factories.EnrollmentFactory(program=tenant.program, affiliate=other_affiliate,
                                         status=Enrollment.Status.PENDING)

    listed = affiliate_api.get("/api/v1/enrollments/")

    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert affiliate_api.get(f"/api/v1/enrollments/{theirs.pk}/").status_code == 404
    assert affiliate_api.post(f"/api/v1/enrollments/{mine.pk}/approve/", {}, format="json").status_code == 403
    assert other_api.post(f"/api/v1/enrollments/{mine.pk}/accept-terms/", {}, format="json").status_code == 404
    mine.refresh_from_db()
    assert mine.status == "pending"


def test_merchant_lists_their_programs_enrollments_with_a_pinned_query_count(
        tenant, merchant_api, django_assert_num_queries):
    for _ in range(5):
        factories.EnrollmentFactory(program=tenant.program, status=Enrollment.Status.PENDING)

    # the same for 5 rows as for 1: program, merchant and affiliate are joined, not fetched per row
    with django_assert_num_queries(5):
        response = merchant_api.get("/api/v1/enrollments/?status=pending")

    assert response.json()["count"] == 5


def test_new_terms_must_be_accepted_before_links_then_accepting_records_the_version(tenant, affiliate_api):
    enrollment = factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate,
                                             accepted_terms_version=1)
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)

    refused = affiliate_api.post("/api/v1/links/", {"program": tenant.program.pk}, format="json")
    accepted = affiliate_api.post(f"/api/v1/enrollments/{enrollment.pk}/accept-terms/", {}, format="json")
    created = affiliate_api.post("/api/v1/links/", {"program": tenant.program.pk}, format="json")

    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["program"]
    assert accepted.json()["accepted_terms_version"] == 2
    assert created.status_code == 201
    event = enrollment.events.get()
    assert (event.action, event.terms_version) == ("terms_accepted", 2)
