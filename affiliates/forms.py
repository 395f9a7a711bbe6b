"""Forms of the affiliate portal, the merchant review pages and the console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from affiliates.models import Affiliate, AffiliateMembership
from merchants.models import CommissionRule

CHANNEL_CHOICES = [
    ("content", _("Content / blog")), ("email", _("Email")), ("social", _("Social media")),
    ("paid_search", _("Paid search")), ("coupon", _("Coupon site")), ("video", _("Video")),
    ("newsletter", _("Newsletter")), ("comparison", _("Comparison site")),
]


class AffiliateProfileForm(forms.Form):
    name = forms.CharField(label=_("Name (you or your company)"), max_length=120)
    kind = forms.ChoiceField(label=_("You are"), choices=Affiliate.Kind.choices)
    country = forms.ChoiceField(label=_("Country"), choices=[("", "—"), *countries], required=False)
    website = forms.URLField(label=_("Website"), required=False)
    channels = forms.MultipleChoiceField(label=_("Promotion channels"), choices=CHANNEL_CHOICES, required=False,
                                         widget=forms.CheckboxSelectMultiple)


class ConsoleAffiliateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    owner_email = forms.EmailField(label=_("Owner email"))
    country = forms.ChoiceField(label=_("Country"), choices=[("", "—"), *countries], required=False)


class MarketplaceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ChoiceField(label=_("Niche"), required=False)
    commission_type = forms.ChoiceField(label=_("Commission"), required=False,
                                        choices=[("", _("Any")), *CommissionRule.Type.choices])
    min_cookie_days = forms.IntegerField(label=_("Cookie window at least (days)"), required=False, min_value=1,
                                         max_value=365)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Any")), *[(c, c) for c in categories]]


class ApplyForm(forms.Form):
    message = forms.CharField(label=_("Message to the merchant"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    website = forms.URLField(label=_("Where you will promote it"), required=False)
    promotion_methods = forms.MultipleChoiceField(label=_("Promotion methods"), choices=CHANNEL_CHOICES,
                                                  required=False, widget=forms.CheckboxSelectMultiple)
    accept_terms = forms.BooleanField(label=_("I accept the program's current terms"), required=True)


class LinkBuilderForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    destination_url = forms.CharField(label=_("Deep link (optional)"), required=False, max_length=2000,
                                      help_text=_("Any page on the program's allowed domains."))
    label = forms.CharField(label=_("Label"), required=False, max_length=100)
    sub1 = forms.CharField(label="sub1", required=False, max_length=100)
    sub2 = forms.CharField(label="sub2", required=False, max_length=100)
    sub3 = forms.CharField(label="sub3", required=False, max_length=100)
    sub4 = forms.CharField(label="sub4", required=False, max_length=100)
    sub5 = forms.CharField(label="sub5", required=False, max_length=100)

    def __init__(self, *args: Any, programs: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = programs


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=AffiliateMembership.Role.choices,
                             initial=AffiliateMembership.Role.MEMBER)


class CouponForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    affiliate = forms.TypedChoiceField(label=_("Affiliate"), coerce=int)
    code = forms.CharField(label=_("Code"), max_length=64)

    def __init__(self, *args: Any, programs: list[tuple[int, str]], affiliates: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = programs
        self.fields["affiliate"].choices = affiliates


class ProgramInviteForm(forms.Form):
    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    affiliate = forms.TypedChoiceField(label=_("Affiliate"), coerce=int)

    def __init__(self, *args: Any, programs: list[tuple[int, str]], affiliates: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = programs
        self.fields["affiliate"].choices = affiliates
