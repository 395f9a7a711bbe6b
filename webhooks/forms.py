"""Forms of the webhooks pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.api.serializers import POSTBACK_EVENT_CHOICES
from webhooks.models import EventType


class EndpointForm(forms.Form):
    url = forms.URLField(label=_("Endpoint URL"), max_length=2000, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(label=_("Events"), choices=EventType.choices,
                                            widget=forms.CheckboxSelectMultiple)


class PostbackForm(forms.Form):
    url_template = forms.CharField(
        label=_("Postback URL"), max_length=2000,
        help_text=_("Macros: {click_id} {sub1}…{sub5} {order_id} {commission} {currency} {status}"),
        widget=forms.TextInput(attrs={"placeholder": "https://tracker.example/postback?cid={click_id}&payout={commission}"}),
    )
    program = forms.IntegerField(label=_("Program id (empty for all programs)"), required=False, min_value=1)
    event_types = forms.MultipleChoiceField(label=_("Events"), choices=POSTBACK_EVENT_CHOICES,
                                            widget=forms.CheckboxSelectMultiple,
                                            initial=[str(choice) for choice, _label in POSTBACK_EVENT_CHOICES])
