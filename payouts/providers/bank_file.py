"""Bank transfers by file: validated payee details, a CSV for any bank and a SEPA pain.001 for EUR.

Nothing is sent anywhere: submit_batch only checks the details and reports "pending"; finance
downloads the file (`render_bank_file`), uploads it to the bank, and an operator marks the payouts paid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from network import money
from payouts.providers.base import (
    PayoutItem,
    PayoutStatus,
    ProviderNotConfigured,
    ProviderRejected,
    StatusResult,
    SubmitResult,
    WebhookEvent,
)

# IBAN lengths per country, from the SWIFT IBAN registry.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

# Countries in the SEPA scheme: EUR transfers to them go in the pain.001 file without a BIC.
SEPA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "CH", "GB", "MC", "SM", "VA", "AD",
})

BIC_PATTERN = re.compile(r"^[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}([A-Z0-9]{3})?$")
CSV_COLUMNS = [
    "reference", "account_holder", "country", "scheme", "iban", "bic", "account_number", "routing_number",
    "sort_code", "amount", "currency", "note",
]
PAIN_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"


def compact(value: Any) -> str:
    """Upper case without spaces, dashes or dots (how people type account numbers)."""
    return re.sub(r"[\s\-.]", "", str(value or "")).upper()


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters to numbers, remainder 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def validate_iban(value: Any) -> str:
    """The compact IBAN, or ValidationError with a message that says what is wrong."""
    iban = compact(value)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", iban):
        raise ValidationError("Enter an IBAN: two letters, two check digits, then the account.", code="invalid_iban")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        raise ValidationError(f"{iban[:2]} does not use IBANs.", code="iban_country")
    if len(iban) != expected:
        raise ValidationError(f"An IBAN from {iban[:2]} has {expected} characters, not {len(iban)}.", code="iban_length")
    if not iban_checksum_ok(iban):
        raise ValidationError("The IBAN check digits do not match; check for a typo.", code="iban_checksum")
    return iban


def validate_bic(value: Any) -> str:
    """The BIC/SWIFT code (8 or 11 characters), upper case."""
    bic = compact(value)
    match = BIC_PATTERN.match(bic)
    if not match or match.group(1) not in _COUNTRY_CODES:
        raise ValidationError("Enter a BIC/SWIFT code of 8 or 11 letters and digits.", code="invalid_bic")
    return bic


def aba_routing_ok(routing: str) -> bool:
    """The ABA routing number checksum (weights 3, 7, 1)."""
    if not re.fullmatch(r"[0-9]{9}", routing):
        return False
    digits = [int(char) for char in routing]
    total = sum(weight * digit for weight, digit in zip([3, 7, 1] * 3, digits, strict=True))
    return total % 10 == 0


def _country_codes() -> frozenset[str]:
    from django_countries import countries

    return frozenset(code for code, _name in countries)


_COUNTRY_CODES = _country_codes()


def validate_bank_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized bank details, or one ValidationError naming every bad field ("details.iban")."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, error: ValidationError | str) -> None:
        messages = error.messages if isinstance(error, ValidationError) else [error]
        errors.setdefault(f"details.{field}", []).extend(messages)

    holder = " ".join(str(details.get("account_holder") or "").split())
    if not holder:
        fail("account_holder", "Enter the name on the bank account.")
    elif len(holder) > 70:
        fail("account_holder", "Use at most 70 characters (the SEPA limit).")
    result: dict[str, Any] = {"account_holder": holder}
    country = compact(details.get("country"))
    iban_value = details.get("iban")
    if iban_value:
        try:
            iban = validate_iban(iban_value)
        except ValidationError as exc:
            fail("iban", exc)
            iban = ""
        country = iban[:2] if iban else country
        bic = ""
        if details.get("bic"):
            try:
                bic = validate_bic(details.get("bic"))
            except ValidationError as exc:
                fail("bic", exc)
        elif iban and country not in SEPA_COUNTRIES:
            fail("bic", "Enter the BIC/SWIFT code: transfers outside SEPA need it.")
        result.update({"scheme": "iban", "country": country, "iban": iban, "bic": bic})
    elif country == "US":
        account = compact(details.get("account_number"))
        routing = compact(details.get("routing_number"))
        if not re.fullmatch(r"[0-9]{4,17}", account):
            fail("account_number", "Enter the account number (4 to 17 digits).")
        if not aba_routing_ok(routing):
            fail("routing_number", "Enter the 9-digit ABA routing number; its check digit does not match.")
        result.update({"scheme": "us_ach", "country": "US", "account_number": account, "routing_number": routing})
    elif country == "GB":
        account = compact(details.get("account_number"))
        sort_code = compact(details.get("sort_code"))
        if not re.fullmatch(r"[0-9]{8}", account):
            fail("account_number", "Enter the 8-digit account number.")
        if not re.fullmatch(r"[0-9]{6}", sort_code):
            fail("sort_code", "Enter the 6-digit sort code (12-34-56).")
        result.update({"scheme": "gb_local", "country": "GB", "account_number": account, "sort_code": sort_code})
    else:
        if country not in _COUNTRY_CODES:
            fail("country", "Choose the country of the bank account.")
        account = compact(details.get("account_number"))
        if not re.fullmatch(r"[A-Z0-9]{4,34}", account):
            fail("iban", "Enter an IBAN, or an account number with a BIC/SWIFT code.")
        bic = ""
        try:
            bic = validate_bic(details.get("bic"))
        except ValidationError as exc:
            fail("bic", exc)
        result.update({"scheme": "swift", "country": country, "account_number": account, "bic": bic})
    if errors:
        raise ValidationError(errors)
    return result


def is_sepa_item(item: PayoutItem) -> bool:
    """EUR to an IBAN in a SEPA country: fits a pain.001 credit transfer."""
    recipient = item.recipient
    return (
        item.currency == "EUR"
        and recipient.get("scheme") == "iban"
        and str(recipient.get("iban", ""))[:2] in SEPA_COUNTRIES
    )


def _csv_cell(value: Any) -> str:
    """Neutralize spreadsheet formulas: finance opens these files in Excel."""
    text = str(value if value is not None else "")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def render_csv(batch_reference: str, items: list[PayoutItem]) -> bytes:
    """One row per payout, amounts as decimal strings in major units."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        details = _checked(item)
        row = {
            **{column: details.get(column, "") for column in CSV_COLUMNS},
            "reference": item.reference,
            "amount": money.to_major(item.amount_minor, item.currency),
            "currency": item.currency,
            "note": item.note,
        }
        writer.writerow([_csv_cell(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


_SEPA_ALLOWED = set(string.ascii_letters + string.digits + "/-?:().,'+ ")


def _sepa_text(value: str, limit: int) -> str:
    """SEPA's basic Latin character set, truncated to the field limit."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(char if char in _SEPA_ALLOWED else " " for char in ascii_text)
    return " ".join(cleaned.split())[:limit].strip()


def render_sepa_xml(
    batch_reference: str,
    items: list[PayoutItem],
    *,
    debtor: Mapping[str, str],
    created_at: dt.datetime,
    execution_date: dt.date,
) -> bytes:
    """A pain.001.001.03 customer credit transfer initiation for EUR IBAN payees."""
    if len(batch_reference) > 35:
        raise ValueError("SEPA message ids are limited to 35 characters.")
    total = sum(Decimal(money.to_major(item.amount_minor, item.currency)) for item in items)
    ET.register_namespace("", PAIN_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{PAIN_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    document = ET.Element(f"{{{PAIN_NS}}}Document")
    root = sub(document, "CstmrCdtTrfInitn")
    header = sub(root, "GrpHdr")
    sub(header, "MsgId", batch_reference)
    sub(header, "CreDtTm", created_at.replace(microsecond=0, tzinfo=None).isoformat())
    sub(header, "NbOfTxs", str(len(items)))
    sub(header, "CtrlSum", f"{total:.2f}")
    sub(sub(header, "InitgPty"), "Nm", _sepa_text(debtor["name"], 70))
    info = sub(root, "PmtInf")
    sub(info, "PmtInfId", batch_reference)
    sub(info, "PmtMtd", "TRF")
    sub(info, "BtchBookg", "true")
    sub(info, "NbOfTxs", str(len(items)))
    sub(info, "CtrlSum", f"{total:.2f}")
    sub(sub(sub(info, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    sub(info, "ReqdExctnDt", execution_date.isoformat())
    sub(sub(info, "Dbtr"), "Nm", _sepa_text(debtor["name"], 70))
    sub(sub(sub(info, "DbtrAcct"), "Id"), "IBAN", debtor["iban"])
    agent = sub(sub(info, "DbtrAgt"), "FinInstnId")
    if debtor.get("bic"):
        sub(agent, "BIC", debtor["bic"])
    else:
        sub(sub(agent, "Othr"), "Id", "NOTPROVIDED")
    sub(info, "ChrgBr", "SLEV")
    for item in items:
        details = _checked(item)
        if len(item.reference) > 35:
            raise ValueError(f"{item.reference}: SEPA end-to-end ids are limited to 35 characters.")
        transfer = sub(info, "CdtTrfTxInf")
        sub(sub(transfer, "PmtId"), "EndToEndId", item.reference)
        sub(sub(transfer, "Amt"), "InstdAmt", money.to_major(item.amount_minor, item.currency), Ccy="EUR")
        if details.get("bic"):
            sub(sub(sub(transfer, "CdtrAgt"), "FinInstnId"), "BIC", details["bic"])
        sub(sub(transfer, "Cdtr"), "Nm", _sepa_text(details["account_holder"], 70))
        sub(sub(sub(transfer, "CdtrAcct"), "Id"), "IBAN", details["iban"])
        sub(sub(transfer, "RmtInf"), "Ustrd", _sepa_text(item.note or item.reference, 140))
    ET.indent(document)
    return ET.tostring(document, encoding="UTF-8", xml_declaration=True)


def debtor_from_settings() -> dict[str, str] | None:
    """Our own account for the SEPA file (BANK_DEBTOR_NAME / _IBAN / _BIC), or None when unset."""
    name = getattr(settings, "BANK_DEBTOR_NAME", "")
    iban = getattr(settings, "BANK_DEBTOR_IBAN", "")
    if not name or not iban:
        return None
    return {"name": name, "iban": validate_iban(iban), "bic": getattr(settings, "BANK_DEBTOR_BIC", "")}


def render_bank_file(
    batch_reference: str,
    items: list[PayoutItem],
    *,
    file_format: str = "auto",
    debtor: Mapping[str, str] | None = None,
    created_at: dt.datetime | None = None,
    execution_date: dt.date | None = None,
) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) for finance: SEPA XML when every item fits it, else CSV."""
    if file_format not in ("auto", "csv", "sepa"):
        raise ValueError("file_format is auto, csv or sepa.")
    safe_name = re.sub(r"[^A-Za-z0-9_-]+", "-", batch_reference).strip("-") or "payouts"
    debtor = debtor if debtor is not None else debtor_from_settings()
    use_sepa = file_format == "sepa" or (
        file_format == "auto" and bool(items) and debtor is not None and all(is_sepa_item(item) for item in items)
    )
    if not use_sepa:
        return f"{safe_name}.csv", "text/csv; charset=utf-8", render_csv(batch_reference, items)
    if debtor is None:
        raise ProviderNotConfigured("A SEPA file needs BANK_DEBTOR_NAME and BANK_DEBTOR_IBAN.", code="not_configured")
    not_sepa = [item.reference for item in items if not is_sepa_item(item)]
    if not_sepa:
        raise ProviderRejected(f"Not EUR to a SEPA IBAN: {', '.join(not_sepa)}.", code="not_sepa")
    now = created_at or timezone.now()
    content = render_sepa_xml(
        batch_reference, items, debtor=debtor, created_at=now, execution_date=execution_date or now.date()
    )
    return f"{safe_name}.xml", "application/xml", content


def _checked(item: PayoutItem) -> dict[str, Any]:
    """The item's details, validated again (a file with a typo in it costs days to undo)."""
    try:
        return validate_bank_details(item.recipient)
    except ValidationError as exc:
        raise ProviderRejected(f"{item.reference}: invalid bank details {exc.message_dict}.", code="invalid_details") from exc


class BankFileProvider:
    """A provider that prepares a file instead of calling an API."""

    name = "bank"
    max_items_per_batch: int | None = None

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """Valid items are "pending" until an operator marks them paid; invalid ones fail at once."""
        results: list[SubmitResult] = []
        for item in items:
            try:
                validate_bank_details(item.recipient)
            except ValidationError as exc:
                results.append(
                    SubmitResult(reference=item.reference, provider_id=None, status=PayoutStatus.FAILED,
                                 raw={"errors": exc.message_dict}, error="Invalid bank details.",
                                 provider_status="invalid_details")
                )
                continue
            results.append(
                SubmitResult(reference=item.reference, provider_id=None, status=PayoutStatus.PENDING,
                             raw={"file": batch_reference}, provider_status="awaiting_upload")
            )
        return results

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """The bank never reports back here: everything stays pending until marked paid."""
        return [
            StatusResult(reference=item.reference, provider_id=None, status=PayoutStatus.PENDING,
                         provider_status="awaiting_upload")
            for item in items
        ]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Bank files have no webhooks."""
        raise ProviderRejected("Bank transfers have no webhooks; mark payouts paid in the console.", code="no_webhooks")

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """IBAN (+BIC outside SEPA), US account + ABA routing, GB account + sort code, or SWIFT."""
        return validate_bank_details(details)
