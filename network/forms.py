"""Forms of the network console and the API-key pages; every write still goes through network.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from network import money, services
from network.models import Membership, Network

LOGO_MAX_BYTES = 1024 * 1024


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


def _currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(money.currency_codes())]


class NetworkSettingsForm(forms.Form):
    """The network's settings as an owner or admin edits them (amounts in major units)."""

    name = forms.CharField(label=_("Network name"), max_length=120)
    default_currency = forms.ChoiceField(label=_("Default currency"), choices=_currency_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
    fee_type = forms.ChoiceField(label=_("Network fee type"), choices=Network.FeeType.choices)
    fee_value = forms.DecimalField(
        label=_("Network fee value"), min_value=Decimal(0), max_digits=14, decimal_places=4,
        help_text=_("A percentage for the percent types (20 = 20 %); an amount in the default currency for flat."))
    payout_schedule = forms.ChoiceField(label=_("Payout schedule"), choices=Network.PayoutSchedule.choices)
    payout_day = forms.IntegerField(label=_("Payout day of the month"), min_value=1, max_value=28)
    payout_net_days = forms.IntegerField(label=_("Net days"), min_value=0, max_value=120,
                                         help_text=_("For the net schedule: days after the month closes."))
    payout_minimum = forms.DecimalField(
        label=_("Minimum payout threshold"), min_value=Decimal(0), max_digits=14, decimal_places=3,
        help_text=_("In the default currency, e.g. 50.00. Affiliates below it wait for the next payout."))
    require_payout_maker_checker = forms.BooleanField(
        label=_("Payout batches need a second staff member to approve (maker-checker)"), required=False)
    require_staff_2fa = forms.BooleanField(label=_("Require two-factor authentication for staff"), required=False)
    brand_name = forms.CharField(label=_("Brand name"), max_length=120, required=False,
                                 help_text=_("Shown in the header instead of the network name."))
    brand_colour = forms.RegexField(label=_("Brand colour"), regex=r"^#[0-9a-fA-F]{6}$",
                                    widget=forms.TextInput(attrs={"type": "color"}),
                                    error_messages={"invalid": _("Use a #rrggbb colour.")})
    logo = forms.ImageField(label=_("Logo"), required=False,
                            help_text=_("PNG, JPEG, GIF or WebP, at most 1 MB."))
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)

    @classmethod
    def initial_for(cls, network: Network) -> dict[str, Any]:
        """The form's initial values from the network (minor units shown as major)."""
        if network.fee_type == Network.FeeType.FLAT:
            fee_value = Decimal(money.to_major(network.fee_flat_minor, network.default_currency))
        else:
            fee_value = Decimal(f"{network.fee_rate.normalize():f}")  # "20", not "2E+1"
        return {
            "name": network.name, "default_currency": network.default_currency, "time_zone": network.time_zone,
            "fee_type": network.fee_type, "fee_value": fee_value, "payout_schedule": network.payout_schedule,
            "payout_day": network.payout_day, "payout_net_days": network.payout_net_days,
            "payout_minimum": money.to_major(network.payout_minimum_minor, network.default_currency),
            "require_payout_maker_checker": network.require_payout_maker_checker,
            "require_staff_2fa": network.require_staff_2fa, "brand_name": network.brand_name,
            "brand_colour": network.brand_colour,
        }

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo is larger than 1 MB."), code="too_large")
        return logo

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments (minor units); raises ValidationError naming the form's fields."""
        data = self.cleaned_data
        currency = data["default_currency"]
        errors: dict[str, list[str]] = {}
        changes: dict[str, Any] = {name: data[name] for name in (
            "name", "default_currency", "time_zone", "fee_type", "payout_schedule", "payout_day", "payout_net_days",
            "require_payout_maker_checker", "require_staff_2fa", "brand_name", "brand_colour")}
        try:
            changes["payout_minimum_minor"] = money.to_minor(data["payout_minimum"], currency)
        except ValidationError as error:
            errors["payout_minimum"] = error.messages
        if data["fee_type"] == Network.FeeType.FLAT:
            try:
                changes["fee_flat_minor"] = money.to_minor(data["fee_value"], currency)
            except ValidationError as error:
                errors["fee_value"] = error.messages
        else:
            if data["fee_value"] > 100:
                errors["fee_value"] = [str(_("A percentage is at most 100."))]
            changes["fee_rate"] = data["fee_value"]
        if data.get("logo"):
            changes["logo"] = data["logo"]
        elif data.get("remove_logo"):
            changes["logo"] = ""
        if errors:
            raise ValidationError(errors)
        return changes


# Service field names → the form field that shows their error.
SETTINGS_ERROR_FIELDS = {"payout_minimum_minor": "payout_minimum", "fee_rate": "fee_value",
                         "fee_flat_minor": "fee_value"}


def add_service_errors(form: forms.Form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form, on the field it names when the form has it."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = field_map.get(name, name)
        form.add_error(target if target in form.fields else None,
                       [message for each in errors for message in each.messages])


class DomainForm(forms.Form):
    """A custom host name for the network."""

    host = forms.CharField(label=_("Host name"), max_length=253, strip=True,
                           widget=forms.TextInput(attrs={"placeholder": "partners.example.com"}))

    def clean_host(self) -> str:
        try:
            return services.normalise_host(self.cleaned_data["host"])
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class StaffInviteForm(forms.Form):
    """Invite someone to the staff by email."""

    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MANAGER)


class StaffRoleForm(forms.Form):
    """A staff member's new role."""

    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


ACCESS_ALL = "all"
ACCESS_READ = "read"
ACCESS_CUSTOM = "custom"


def _capability_choices() -> list[tuple[str, str]]:
    return [(f"{capability}:{mode}", f"{capability}:{mode}")
            for capability in services.API_KEY_CAPABILITIES for mode in ("read", "write")]


class ApiKeyForm(forms.Form):
    """A new API key for the current role: a name and what it may do."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. shop backend")}))
    access = forms.ChoiceField(label=_("Access"), widget=forms.RadioSelect, initial=ACCESS_ALL, choices=[
        (ACCESS_ALL, _("Read and write (everything this role may do)")),
        (ACCESS_READ, _("Read only")),
        (ACCESS_CUSTOM, _("Only the capabilities ticked below")),
    ])
    capabilities = forms.MultipleChoiceField(label=_("Capabilities"), required=False, choices=_capability_choices,
                                             widget=forms.CheckboxSelectMultiple)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("access") == ACCESS_CUSTOM and not data.get("capabilities"):
            self.add_error("capabilities", _("Tick at least one capability, or choose another access."))
        return data

    def scopes(self) -> list[str]:
        """The key's scopes: empty means every scope of the role."""
        access = self.cleaned_data["access"]
        if access == ACCESS_READ:
            return ["read"]
        if access == ACCESS_CUSTOM:
            return sorted(self.cleaned_data["capabilities"])
        return []
