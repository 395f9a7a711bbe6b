"""Forms of the tracking pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class StripeIntegrationForm(forms.Form):
    """The signing secret of the merchant's Stripe webhook endpoint for one program."""

    webhook_secret = forms.CharField(label=_("Signing secret (whsec_…)"), max_length=255)
