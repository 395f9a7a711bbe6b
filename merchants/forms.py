"""Forms of the merchant dashboard and the console's merchant pages (the services validate, forms collect)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from merchants import services
from merchants.models import CommissionRule, Creative, MerchantMembership, Program
from network import money
from network.models import Network

PROMOTION_CHOICES = [("content", _("Content (reviews, blogs, comparison sites)")), ("email", _("Email")),
                     ("social", _("Social media")), ("paid_search", _("Paid search"))]


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names when the form has it."""
    items = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    for name, messages in items:
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class ProgramForm(forms.Form):
    """A program's settings; creating one also asks for its first commission rule."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.CharField(label=_("Niche"), required=False, max_length=64,
                               help_text=_("For example: hosting, travel, education, fashion."))
    landing_url = forms.CharField(label=_("Landing URL"), max_length=2000,
                                  widget=forms.URLInput(attrs={"placeholder": "https://shop.example.com/"}))
    allowed_domains = forms.CharField(
        label=_("Allowed domains for deep links"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: shop.example.com allows that host, *.example.com also every subdomain. "
                    "Empty: the landing URL's host."))
    cookie_window_days = forms.IntegerField(label=_("Cookie window (days)"), min_value=1, max_value=365, initial=30)
    attribution = forms.ChoiceField(label=_("Attribution"), choices=Program.Attribution.choices,
                                    initial=Program.Attribution.LAST_CLICK)
    approval = forms.ChoiceField(label=_("Applications"), choices=Program.Approval.choices,
                                 initial=Program.Approval.MANUAL)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Program.Visibility.choices,
                                   initial=Program.Visibility.PUBLIC)
    currency = forms.CharField(label=_("Currency"), min_length=3, max_length=3,
                               help_text=_("ISO 4217 code, e.g. USD or EUR; fixed once the program is live."))
    lock_days = forms.IntegerField(label=_("Lock period (days)"), min_value=0, max_value=365, initial=30,
                                   help_text=_("Days before a pending conversion is approved automatically."))
    click_param = forms.CharField(label=_("Click-id parameter"), max_length=32, initial="aff_click")
    min_seconds_to_convert = forms.IntegerField(label=_("Flag conversions faster than (seconds)"), min_value=0,
                                                initial=10)
    duplicate_click_window_seconds = forms.IntegerField(label=_("Ignore repeat clicks within (seconds)"),
                                                        min_value=0, initial=30)

    def __init__(self, *args: Any, with_first_rule: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_first_rule:
            self.fields["rule_action"] = forms.SlugField(label=_("First commission: action"), initial="sale",
                                                         max_length=32)
            self.fields["rule_type"] = forms.ChoiceField(label=_("Type"), choices=CommissionRule.Type.choices,
                                                         initial=CommissionRule.Type.PERCENT)
            self.fields["rule_value"] = forms.DecimalField(
                label=_("Rate (%) or amount"), min_value=0, max_digits=14, decimal_places=4, initial=Decimal("10"),
                help_text=_("A percentage for percent rules, an amount in the program's currency for flat ones."))

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean_allowed_domains(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_domains") or ""
        return [line.strip() for line in raw.replace(",", "\n").splitlines() if line.strip()]

    def program_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.PROGRAM_FIELDS if name in self.cleaned_data}

    def first_rule(self) -> list[dict[str, Any]]:
        value = self.cleaned_data["rule_value"]
        if self.cleaned_data["rule_type"] == CommissionRule.Type.PERCENT:
            return [{"action": self.cleaned_data["rule_action"], "type": "percent", "rate": value}]
        try:
            amount = money.to_minor(value, self.cleaned_data["currency"])
        except ValidationError as error:
            raise ValidationError({"rule_value": error.messages}) from None
        return [{"action": self.cleaned_data["rule_action"], "type": "flat", "amount_minor": amount}]

    @classmethod
    def initial_for(cls, program: Program) -> dict[str, Any]:
        initial = {name: getattr(program, name) for name in services.PROGRAM_FIELDS}
        initial["allowed_domains"] = "\n".join(program.allowed_domains)
        return initial


class RuleForm(forms.Form):
    """One row of the rules editor."""

    action = forms.SlugField(label=_("Action"), max_length=32, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=CommissionRule.Type.choices)
    value = forms.DecimalField(label=_("Rate (%) or amount"), min_value=0, max_digits=14, decimal_places=4,
                               required=False)
    recurring = forms.ChoiceField(label=_("Recurring"), choices=CommissionRule.Recurring.choices)
    recurring_months = forms.IntegerField(label=_("Months"), min_value=1, max_value=120, required=False)
    monthly_cap = forms.IntegerField(label=_("Cap per affiliate per month"), min_value=1, required=False)
    tiers = forms.CharField(label=_("Tiers"), required=False,
                            help_text=_("approved sales this month:rate or amount, e.g. 50:10, 200:12.5"))

    def to_rule(self, currency: str) -> dict[str, Any] | None:
        """The row as a service rule (minor units), or None for an empty row."""
        data = self.cleaned_data
        if not data.get("action"):
            return None
        percent = data["type"] == CommissionRule.Type.PERCENT

        def amount(value: Any) -> int | None:
            return None if value is None else money.to_minor(value, currency)

        tiers = []
        for chunk in (data.get("tiers") or "").split(","):
            if not chunk.strip():
                continue
            threshold, _sep, tier_value = chunk.partition(":")
            try:
                count = int(threshold.strip())
                tier_decimal = Decimal(tier_value.strip())
            except (ValueError, ArithmeticError):
                raise ValidationError({"rules": [_("Write tiers as count:value, e.g. 50:10.")]}) from None
            tiers.append({"min_approved": count, "rate": tier_decimal} if percent
                         else {"min_approved": count, "amount_minor": amount(tier_decimal)})
        return {"action": data["action"], "type": data["type"],
                "rate": data.get("value") if percent else None,
                "amount_minor": None if percent else amount(data.get("value")),
                "recurring": data["recurring"], "recurring_months": data.get("recurring_months"),
                "monthly_cap_per_affiliate": data.get("monthly_cap"), "tiers": tiers}

    @classmethod
    def initial_for(cls, rule: CommissionRule, currency: str) -> dict[str, Any]:
        percent = rule.type == CommissionRule.Type.PERCENT
        tiers = ", ".join(
            f"{tier['min_approved']}:{tier['rate'] if 'rate' in tier else money.to_major(tier['amount_minor'], currency)}"
            for tier in rule.tiers or [])
        return {"action": rule.action, "type": rule.type,
                "value": rule.rate.normalize() if percent and rule.rate is not None else (
                    Decimal(money.to_major(rule.amount_minor or 0, currency))),
                "recurring": rule.recurring, "recurring_months": rule.recurring_months,
                "monthly_cap": rule.monthly_cap_per_affiliate, "tiers": tiers}


RuleFormSet = forms.formset_factory(RuleForm, extra=1, max_num=20)


class AffiliateRateForm(forms.Form):
    """A private rate for one affiliate of the program."""

    affiliate = forms.TypedChoiceField(label=_("Affiliate"), coerce=int)
    action = forms.SlugField(label=_("Action"), initial="sale", max_length=32)
    type = forms.ChoiceField(label=_("Type"), choices=CommissionRule.Type.choices)
    value = forms.DecimalField(label=_("Rate (%) or amount"), min_value=0, max_digits=14, decimal_places=4)

    def __init__(self, *args: Any, affiliates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["affiliate"].choices = affiliates


class TermsForm(forms.Form):
    """A new version of the program's terms."""

    promotion_methods = forms.MultipleChoiceField(label=_("Allowed promotion methods"), choices=PROMOTION_CHOICES,
                                                  widget=forms.CheckboxSelectMultiple, required=False)
    ppc_brand_bidding = forms.BooleanField(label=_("Affiliates may bid on our brand keywords"), required=False)
    coupon_sites = forms.BooleanField(label=_("Coupon and deal sites are welcome"), required=False)
    text = forms.CharField(label=_("Terms text"), required=False, widget=forms.Textarea(attrs={"rows": 8}))


class CreativeForm(forms.Form):
    """A banner or text link."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Creative.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    image = forms.FileField(label=_("Image (PNG, JPEG, GIF or WebP, at most 500 KB)"), required=False)
    text = forms.CharField(label=_("Link text"), required=False, max_length=500)
    alt_text = forms.CharField(label=_("Alt text"), required=False, max_length=200)
    destination_url = forms.CharField(label=_("Destination (deep link)"), required=False, max_length=2000,
                                      help_text=_("Empty: the program's landing URL."))


class ClickParamForm(forms.Form):
    click_param = forms.CharField(label=_("Click-id parameter"), max_length=32)


class InviteMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=MerchantMembership.Role.choices,
                             help_text=_("Analysts can see everything but change nothing."))


class MerchantApplicationForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=120)
    website = forms.URLField(label=_("Website"), required=False)
    country = forms.CharField(label=_("Country code"), max_length=2, required=False,
                              help_text=_("Two letters, e.g. DE or VN."))


class MerchantCreateForm(forms.Form):
    name = forms.CharField(label=_("Merchant name"), max_length=120)
    owner_email = forms.EmailField(label=_("Owner's email"))
    website = forms.URLField(label=_("Website"), required=False)
    country = forms.CharField(label=_("Country code"), max_length=2, required=False)


class MerchantFeeForm(forms.Form):
    fee_type = forms.ChoiceField(label=_("Fee"), required=False,
                                 choices=[("", _("Network default")), *list(Network.FeeType.choices)])
    fee_rate = forms.DecimalField(label=_("Rate (%)"), required=False, min_value=0, max_value=100,
                                  max_digits=7, decimal_places=4)
    fee_flat = forms.DecimalField(label=_("Flat fee"), required=False, min_value=0, max_digits=14, decimal_places=3)
