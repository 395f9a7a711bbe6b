"""Forms of the payouts pages."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from network import money


class MerchantFundingForm(forms.Form):
    """Staff record a bank transfer received from a merchant."""

    merchant = forms.TypedChoiceField(label=_("Merchant"), coerce=int)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=18, decimal_places=3)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    reference = forms.CharField(label=_("Bank reference"), max_length=120,
                                help_text=_("The transfer's reference; recording it twice records it once."))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args: Any, merchants: list[tuple[int, str]], default_currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = merchants
        self.fields["currency"].initial = default_currency

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].upper()
        try:
            money.validate_currency(currency)
        except ValidationError:
            raise ValidationError(_("Not an ISO 4217 currency code.")) from None
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "amount" in cleaned and "currency" in cleaned:
            try:
                cleaned["amount_minor"] = money.to_minor(cleaned["amount"], cleaned["currency"])
            except ValidationError as error:
                self.add_error("amount", error.messages)
            else:
                if cleaned["amount_minor"] <= 0:
                    self.add_error("amount", _("The amount must be positive."))
        return cleaned


class BillingSettingsForm(forms.Form):
    """The network's funding horizon and whether unfunded programs are paused."""

    funding_horizon_days = forms.IntegerField(label=_("Funding horizon (days)"), min_value=1, max_value=365)
    pause_unfunded_programs = forms.BooleanField(label=_("Pause programs whose merchant balance is exhausted"),
                                                 required=False)


class PayoutProfileForm(forms.Form):
    """The affiliate's payout settings; the services validate details and tax and name each field."""

    DETAIL_FIELDS = ("email", "account_holder", "iban", "bic", "account_number", "routing_number", "sort_code",
                     "country", "account_id", "payee_id", "behaviour")
    TAX_FIELDS = ("form", "legal_name", "country", "tax_id", "signed_on")

    method = forms.ChoiceField(label=_("Payout method"), choices=[
        ("paypal", _("PayPal")), ("payoneer", _("Payoneer")), ("stripe", _("Stripe Connect")),
        ("bank", _("Bank transfer")), ("sandbox", _("Sandbox (demo)"))])
    currency = forms.CharField(label=_("Payout currency"), max_length=3, min_length=3)
    threshold = forms.CharField(label=_("Pay me from"), required=False,
                                help_text=_("Leave empty for the network minimum."))
    details_email = forms.EmailField(label=_("PayPal email"), required=False)
    details_account_holder = forms.CharField(label=_("Account holder"), required=False, max_length=70)
    details_iban = forms.CharField(label=_("IBAN"), required=False, max_length=42)
    details_bic = forms.CharField(label=_("BIC / SWIFT"), required=False, max_length=11)
    details_account_number = forms.CharField(label=_("Account number"), required=False, max_length=34)
    details_routing_number = forms.CharField(label=_("Routing number (US)"), required=False, max_length=9)
    details_sort_code = forms.CharField(label=_("Sort code (UK)"), required=False, max_length=8)
    details_country = forms.CharField(label=_("Bank country"), required=False, max_length=2)
    details_account_id = forms.CharField(label=_("Stripe account"), required=False, max_length=64,
                                         help_text=_("Filled in by the Stripe onboarding."))
    details_payee_id = forms.CharField(label=_("Payoneer payee id"), required=False, max_length=64,
                                       help_text=_("Filled in by the Payoneer registration."))
    details_behaviour = forms.ChoiceField(label=_("Sandbox behaviour"), required=False, choices=[
        ("auto", _("Decided by the amount")), ("succeed", _("Succeed")), ("fail", _("Fail")), ("delay", _("Delay"))])
    tax_form = forms.ChoiceField(label=_("Tax form"), choices=[("w8ben", _("W-8BEN (not a US person)")),
                                                                ("w9", _("W-9 (US person)"))])
    tax_legal_name = forms.CharField(label=_("Legal name"), max_length=140)
    tax_country = forms.CharField(label=_("Tax residence (country code)"), max_length=2)
    tax_tax_id = forms.CharField(label=_("Tax id"), max_length=40)
    tax_signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, network: Any, profile: Any = None, **kwargs: Any) -> None:
        data = args[0] if args else kwargs.get("data")
        if profile is not None and data is None:
            initial = {"method": profile.method, "currency": profile.currency,
                       "threshold": money.to_major(profile.threshold_minor, profile.currency)
                       if profile.threshold_minor is not None else ""}
            initial.update({f"details_{k}": v for k, v in profile.details.items()})
            initial.update({f"tax_{k}": v for k, v in profile.tax.items()})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        if profile is None:
            self.fields["currency"].initial = network.default_currency

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data[f"details_{name}"] for name in self.DETAIL_FIELDS
                if self.cleaned_data.get(f"details_{name}")}

    def tax(self) -> dict[str, Any]:
        return {name: self.cleaned_data[f"tax_{name}"] for name in self.TAX_FIELDS}

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's `details.iban` / `tax.country` / `threshold` errors on the form's fields."""
        for name, messages in error.message_dict.items():
            field = name.replace(".", "_")
            self.add_error(field if field in self.fields else None, messages)
