"""Bank file provider: IBAN/BIC/local validation, CSV and SEPA pain.001 rendering, pending statuses."""

import csv
import datetime as dt
import io
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import ValidationError

from payouts.providers import PayoutItem, PayoutStatus, ProviderNotConfigured, ProviderRejected, get_provider
from payouts.providers.bank_file import (
    IBAN_LENGTHS,
    aba_routing_ok,
    render_bank_file,
    validate_bank_details,
    validate_bic,
    validate_iban,
)

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = {"name": "Seed Network GmbH", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


@pytest.mark.parametrize(
    ("raw", "compact"),
    [("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"), ("gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"),
     ("NL91ABNA0417164300", "NL91ABNA0417164300"), ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
     ("BE68539007547034", "BE68539007547034"), ("NO9386011117947", "NO9386011117947"),
     ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957")],
)
def test_valid_ibans(raw, compact):
    assert validate_iban(raw) == compact


@pytest.mark.parametrize(
    ("raw", "code"),
    [("DE89370400440532013001", "iban_checksum"), ("DE8937040044053201300", "iban_length"),
     ("US12345678901234567890", "iban_country"), ("1234", "invalid_iban"), ("", "invalid_iban"),
     ("GB82WEST1234569876543X", "iban_checksum")],
)
def test_invalid_ibans(raw, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_iban(raw)

    assert excinfo.value.code == code


def test_length_table_has_the_common_countries():
    assert {code: IBAN_LENGTHS[code] for code in ("DE", "FR", "GB", "NL", "NO", "MT", "RU")} == {
        "DE": 22, "FR": 27, "GB": 22, "NL": 18, "NO": 15, "MT": 31, "RU": 33
    }


@pytest.mark.parametrize("bic", ["DEUTDEFF", "DEUTDEFF500", "cobadeffxxx"])
def test_valid_bics(bic):
    assert validate_bic(bic) == bic.upper()


@pytest.mark.parametrize("bic", ["DEUT1EFF", "DEUTXXFF", "DEUTDEF", "DEUTDEFF5000", ""])
def test_invalid_bics(bic):
    with pytest.raises(ValidationError):
        validate_bic(bic)


@pytest.mark.parametrize(("routing", "ok"), [("021000021", True), ("011000015", True), ("021000022", False),
                                             ("12345678", False), ("abcdefghi", False)])
def test_aba_routing_checksum(routing, ok):
    assert aba_routing_ok(routing) is ok


def test_iban_details_normalize():
    assert validate_bank_details({"account_holder": " Ann  Müller ", "iban": "de89 3704 0044 0532 0130 00"}) == {
        "account_holder": "Ann Müller", "scheme": "iban", "country": "DE", "iban": "DE89370400440532013000", "bic": ""
    }


def test_iban_outside_sepa_needs_a_bic():
    with pytest.raises(ValidationError) as excinfo:
        validate_bank_details({"account_holder": "Ali", "iban": "TR330006100519786457841326"})

    assert excinfo.value.message_dict == {"details.bic": ["Enter the BIC/SWIFT code: transfers outside SEPA need it."]}


def test_us_details():
    assert validate_bank_details(
        {"account_holder": "Bo", "country": "US", "account_number": "000123456789", "routing_number": "021000021"}
    ) == {"account_holder": "Bo", "scheme": "us_ach", "country": "US", "account_number": "000123456789",
          "routing_number": "021000021"}


def test_gb_local_details():
    assert validate_bank_details(
        {"account_holder": "Cy", "country": "GB", "account_number": "31926819", "sort_code": "60-16-13"}
    )["sort_code"] == "601613"


def test_every_bad_field_is_named():
    with pytest.raises(ValidationError) as excinfo:
        validate_bank_details({"country": "US", "account_number": "12", "routing_number": "021000022"})

    assert sorted(excinfo.value.message_dict) == ["details.account_holder", "details.account_number",
                                                  "details.routing_number"]


def test_other_countries_need_account_and_bic():
    with pytest.raises(ValidationError) as excinfo:
        validate_bank_details({"account_holder": "Dee", "country": "IN", "account_number": "1234567890"})

    assert list(excinfo.value.message_dict) == ["details.bic"]


def sepa_items() -> list[PayoutItem]:
    return [
        PayoutItem(reference="payout:1", amount_minor=1250, currency="EUR", note="Commissions March",
                   recipient=validate_bank_details({"account_holder": "Ann Müller", "iban": "DE89370400440532013000"})),
        PayoutItem(reference="payout:2", amount_minor=99, currency="EUR", note="",
                   recipient=validate_bank_details({"account_holder": "Bob & Co", "iban": "NL91ABNA0417164300",
                                                    "bic": "ABNANL2A"})),
    ]


def test_sepa_file_for_eur_iban_payees():
    filename, content_type, content = render_bank_file(
        "payout-batch:7", sepa_items(), debtor=DEBTOR,
        created_at=dt.datetime(2025, 3, 3, 10, 0, 0, tzinfo=dt.UTC), execution_date=dt.date(2025, 3, 4),
    )

    assert (filename, content_type) == ("payout-batch-7.xml", "application/xml")
    root = ET.fromstring(content)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == "payout-batch:7"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "13.49"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=NS) == "2025-03-03T10:00:00"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:ReqdExctnDt", namespaces=NS) == "2025-03-04"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    transfers = info.findall("p:CdtTrfTxInf", NS)
    assert [
        (t.findtext("p:PmtId/p:EndToEndId", namespaces=NS), t.findtext("p:Amt/p:InstdAmt", namespaces=NS),
         t.find("p:Amt/p:InstdAmt", NS).get("Ccy"), t.findtext("p:Cdtr/p:Nm", namespaces=NS),
         t.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS), t.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS),
         t.findtext("p:RmtInf/p:Ustrd", namespaces=NS))
        for t in transfers
    ] == [
        ("payout:1", "12.50", "EUR", "Ann Muller", "DE89370400440532013000", None, "Commissions March"),
        ("payout:2", "0.99", "EUR", "Bob Co", "NL91ABNA0417164300", "ABNANL2A", "payout:2"),
    ]


def test_mixed_batch_falls_back_to_csv():
    items = [
        *sepa_items(),
        PayoutItem(reference="payout:3", amount_minor=5000, currency="USD", note="=HYPERLINK(\"x\")",
                   recipient=validate_bank_details({"account_holder": "-Bo", "country": "US",
                                                    "account_number": "000123456789", "routing_number": "021000021"})),
    ]

    filename, content_type, content = render_bank_file("payout-batch:7", items, debtor=DEBTOR)

    assert (filename, content_type) == ("payout-batch-7.csv", "text/csv; charset=utf-8")
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [(r["reference"], r["amount"], r["currency"], r["scheme"]) for r in rows] == [
        ("payout:1", "12.50", "EUR", "iban"), ("payout:2", "0.99", "EUR", "iban"), ("payout:3", "50.00", "USD", "us_ach")
    ]
    # Formula injection is neutralized for spreadsheets.
    assert (rows[2]["note"], rows[2]["account_holder"]) == ("'=HYPERLINK(\"x\")", "'-Bo")


def test_without_debtor_settings_auto_gives_csv_and_sepa_refuses(settings):
    settings.BANK_DEBTOR_NAME = ""

    assert render_bank_file("payout-batch:7", sepa_items())[0] == "payout-batch-7.csv"
    with pytest.raises(ProviderNotConfigured):
        render_bank_file("payout-batch:7", sepa_items(), file_format="sepa")


def test_sepa_refuses_non_sepa_items():
    items = [PayoutItem(reference="payout:9", amount_minor=100, currency="GBP",
                        recipient=validate_bank_details({"account_holder": "Cy", "country": "GB",
                                                         "account_number": "31926819", "sort_code": "601613"}))]

    with pytest.raises(ProviderRejected):
        render_bank_file("payout-batch:7", items, file_format="sepa", debtor=DEBTOR)


def test_rendering_refuses_invalid_details():
    items = [PayoutItem(reference="payout:9", amount_minor=100, currency="EUR",
                        recipient={"account_holder": "X", "iban": "DE89370400440532013001"})]

    with pytest.raises(ProviderRejected, match="payout:9"):
        render_bank_file("payout-batch:7", items, file_format="csv")


def test_submit_is_pending_and_fails_invalid_details():
    provider = get_provider("bank")
    items = [*sepa_items(), PayoutItem(reference="payout:9", amount_minor=100, currency="EUR",
                                        recipient={"account_holder": "X", "iban": "DE00"})]

    results = provider.submit_batch("payout-batch:7", items)

    assert [(r.reference, r.status, r.provider_status) for r in results] == [
        ("payout:1", PayoutStatus.PENDING, "awaiting_upload"), ("payout:2", PayoutStatus.PENDING, "awaiting_upload"),
        ("payout:9", PayoutStatus.FAILED, "invalid_details"),
    ]
    assert [r.status for r in provider.fetch_status("payout-batch:7", items)] == [PayoutStatus.PENDING] * 3


def test_bank_has_no_webhooks():
    with pytest.raises(ProviderRejected):
        get_provider("bank").parse_webhook({}, b"{}")
