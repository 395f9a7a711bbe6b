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
