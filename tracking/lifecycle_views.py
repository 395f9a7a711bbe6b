"""Pages of the lifecycle: the merchant's review queue (decisions, CSV decline, claims) and the affiliate's claims."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from affiliates.models import Enrollment
from merchants.models import MerchantMembership, Program
from network.views_base import AffiliateView, MerchantView
from tracking import claims, lifecycle, selectors
from tracking.models import Conversion, ConversionClaim, ReasonCode

REVIEW_PAGE_SIZE = 50


def _messages_of(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(str(m) for messages_ in error.message_dict.values() for m in messages_)
    return " ".join(str(m) for m in error.messages)


class _Decider:
    """Merchant admins decide; analysts read the queue only."""

    actor: Any

    @property
    def can_decide(self) -> bool:
        return self.actor.role == MerchantMembership.Role.ADMIN

    def require_decider(self) -> None:
        if not self.can_decide:
            raise Http404("Only merchant admins decide on conversions.")


class MerchantReviewView(_Decider, MerchantView):
    """/merchant/review/: pending and held conversions to approve or decline (one, many, or by CSV), and claims."""

    model = Conversion
    merchant_field = "merchant_id"

    def _claims(self) -> QuerySet[ConversionClaim]:
        return (ConversionClaim.objects.for_network(self.network)
                .filter(merchant_id=self.actor.merchant_id, status=ConversionClaim.Status.OPEN)
                .select_related("program", "affiliate").order_by("created_at", "id"))

    def context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        queue = selectors.review_queue(self.get_queryset())
        page = Paginator(queue, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        return {"page": page, "conversions": list(page.object_list), "filters": request.GET,
                "claims": list(self._claims()), "reason_codes": ReasonCode.choices, "can_decide": self.can_decide,
                "actions": [("approve", _("Approve")), ("reject", _("Decline")), ("hold", _("Hold")),
                            ("release", _("Release"))], **extra}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "tracking/merchant_review.html", self.context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        self.require_decider()
        ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
        status = 200
        try:
            results = lifecycle.bulk_decide(
                network=self.network, scope=self.get_queryset(), ids=ids, action=request.POST.get("action", ""),
                actor=request.user, reason=request.POST.get("reason", "")[:255],
                reason_code=request.POST.get("reason_code", ""))
        except ValidationError as error:
            results, status = [], 400
            notice = _messages_of(error)
        else:
            done = sum(1 for result in results if result.result != "error")
            notice = _("%(done)d of %(total)d conversions updated.") % {"done": done, "total": len(results)}
        if request.headers.get("HX-Request"):
            return render(request, "tracking/_review_queue.html",
                          self.context(request, notice=notice, results=results), status=status)
        if status == 400:
            return render(request, "tracking/merchant_review.html",
                          self.context(request, notice=notice, results=results), status=status)
        messages.success(request, notice)
        return HttpResponseRedirect(request.path)


class MerchantDeclineCsvView(_Decider, MerchantView):
    """/merchant/review/decline-csv/: upload order ids to decline; the page reports every row."""

    model = Conversion
    merchant_field = "merchant_id"

    def post(self, request: HttpRequest) -> HttpResponse:
        self.require_decider()
        review = MerchantReviewView()
        review.network, review.actor, review.request = self.network, self.actor, request
        upload = request.FILES.get("file")
        status, report, notice = 200, [], ""
        try:
            if upload is None:
                raise ValidationError({"file": [_("Choose a CSV file with an order_id column.")]})
            if upload.size > lifecycle.MAX_CSV_BYTES:
                raise ValidationError({"file": [_("The file is larger than 2 MB.")]})
            report = lifecycle.decline_from_csv(
                network=self.network, scope=self.get_queryset(), content=upload.read(), actor=request.user,
                default_reason_code=request.POST.get("reason_code", ""),
                all_or_nothing=request.POST.get("all_or_nothing") == "on")
            declined = sum(1 for row in report if row.result == Conversion.Status.REJECTED)
            notice = _("%(declined)d of %(total)d rows declined.") % {"declined": declined, "total": len(report)}
        except lifecycle.CsvRejected as rejected:
            status, report, notice = 400, rejected.rows, _messages_of(rejected)
        except ValidationError as error:
            status, notice = 400, _messages_of(error)
        return render(request, "tracking/merchant_review.html",
                      review.context(request, notice=notice, csv_report=report), status=status)


class MerchantClaimAnswerView(_Decider, MerchantView):
    """/merchant/review/claims/<id>/: accept or reject an affiliate's claim."""

    model = ConversionClaim
    merchant_field = "merchant_id"

    def post(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        self.require_decider()
        claim = self.get_queryset().filter(pk=claim_id).first()
        if claim is None:
            raise Http404("No such claim.")
        answer = request.POST.get("answer", "")[:500]
        try:
            if request.POST.get("decision") == "accept":
                claims.accept_claim(network=self.network, claim_id=claim.pk, actor=request.user, answer=answer)
                messages.success(request, _("Claim accepted: the conversion is approved."))
            elif request.POST.get("decision") == "reject":
                claims.reject_claim(network=self.network, claim_id=claim.pk, actor=request.user, answer=answer,
                                    reason_code=request.POST.get("reason_code", ""))
                messages.success(request, _("Claim rejected; the affiliate sees your answer."))
            else:
                raise ValidationError({"decision": [_("Accept or reject the claim.")]})
        except ValidationError as error:
            review = MerchantReviewView()
            review.network, review.actor, review.request = self.network, self.actor, request
            return render(request, "tracking/merchant_review.html",
                          review.context(request, notice=_messages_of(error)), status=400)
        return HttpResponseRedirect("/merchant/review/")


class AffiliateClaimsView(AffiliateView):
    """/portal/claims/: open a claim for a missing or declined conversion; read the merchant's answers."""

    model = ConversionClaim
    affiliate_field = "affiliate_id"

    def _programs(self) -> list[Program]:
        enrolled = Enrollment.objects.for_network(self.network).filter(
            affiliate_id=self.actor.affiliate_id, status=Enrollment.Status.APPROVED).values("program_id")
        return list(Program.objects.for_network(self.network).filter(pk__in=enrolled).order_by("name"))

    def _render(self, request: HttpRequest, *, errors: dict[str, list[str]] | None = None,
                status: int = 200) -> HttpResponse:
        claims_list = list(self.get_queryset().select_related("program").order_by("-created_at", "-id")[:200])
        return render(request, "tracking/portal_claims.html", {
            "claims": claims_list, "programs": self._programs(), "errors": errors or {},
            "values": request.POST if request.method == "POST" else request.GET}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        program_id = request.POST.get("program", "")
        program = next((p for p in self._programs() if str(p.pk) == program_id), None)
        try:
            if program is None:
                raise ValidationError({"program": [_("Choose one of your programs.")]})
            claims.open_claim(network=self.network, affiliate_id=self.actor.affiliate_id, program=program,
                              order_id=request.POST.get("order_id", ""), order_date=request.POST.get("order_date", ""),
                              amount=request.POST.get("amount", ""), currency=program.currency,
                              note=request.POST.get("note", ""), actor=request.user)
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            return self._render(request, errors=errors, status=400)
        messages.success(request, _("Claim sent. The merchant answers here."))
        return HttpResponseRedirect(request.path)
