"""Hostile input never breaks the system: no 500, markup escaped, formulas neutralised.

Property tests (hypothesis, modest example counts) throw huge strings, control
characters, markup, malformed dates and broken encodings at the register form, an action
form, the login form and the ledger importer. Whatever comes in, the answer is a page
that says what is wrong (or a saved record), never a server error.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Event, Request
from tests.conftest import NOW, PASSWORD, login
from tests.integration.world import registered_request
from workflow.kernel.actor import local_today
from workflow.ledger.importer import ImportSource, import_ledger
from workflow.ledger.reader import COLUMN_NAMES, LedgerFileError, read_ledger_bytes, validate_rows

PROFILE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'

#: Strings an attacker or a broken client would send.
hostile_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=30),  # control characters
    st.sampled_from(
        [
            SCRIPT,
            FORMULA,
            "\x00\x01\x1b[2J",
            "'; DROP TABLE requests; --",
            "\ud7ff\ufeff\u202e反转",
            "２０２６－１１－０１",
            "2026-02-30",
            "9999-99-99",
            "-1",
            "1e309",
            "   ",
        ]
    ),
    st.integers(min_value=1, max_value=10_000).map(lambda n: "字" * n),  # up to 10k chars
    st.just("a" * 10_000),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()), hostile_text, st.just(""), st.just("2026-11-01")
)


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 200
    return client


def assert_not_broken(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


@pytest.fixture
def clerk(app, users):
    return signed_in(app, "registrar")


@PROFILE
@given(
    name=hostile_text,
    kind=st.one_of(st.sampled_from(["natural_person", "other_org"]), hostile_text),
    subject=hostile_text,
    channel=st.one_of(st.sampled_from(["in_person", "post", "online"]), hostile_text),
    submitted=dates,
    received=dates,
    email=hostile_text,
    phone=hostile_text,
)
def test_register_form_survives_anything(
    clerk, name, kind, subject, channel, submitted, received, email, phone
) -> None:
    response = clerk.post(
        "/requests/new",
        data={
            "applicant_name": name,
            "applicant_kind": kind,
            "subject": subject,
            "channel": channel,
            "submitted_on": submitted,
            "received_on": received,
            "email": email,
            "phone": phone,
        },
    )
    assert_not_broken(response)
    assert response.status_code in (302, 400)


@PROFILE
@given(
    trigger=st.sampled_from(["accept", "request_supplement", "decide", "extend", "withdraw"]),
    version=st.one_of(st.just("1"), hostile_text),
    effective=dates,
    fields=st.dictionaries(
        st.sampled_from(["items", "due_on", "outcome", "delivery", "days", "reason", "approver"]),
        hostile_text,
        max_size=7,
    ),
)
def test_action_form_survives_anything(
    app, session, agency, users, trigger, version, effective, fields
) -> None:
    client = signed_in(app, "handler")
    req = registered_request(session, agency, users["registrar"])
    before = session.scalar(select(func.count()).select_from(Event))
    response = client.post(
        f"/requests/{req.id}/act/{trigger}",
        data={"expected_version": version, "effective_date": effective, **fields},
    )
    assert_not_broken(response)
    session.expire_all()
    if response.status_code != 302:  # refused: nothing was recorded
        assert session.scalar(select(func.count()).select_from(Event)) == before


@PROFILE
@given(username=hostile_text, password=hostile_text)
def test_login_form_survives_anything(client, users, username, password) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert_not_broken(response)
    assert response.status_code in (400, 401, 429)


def test_broken_encodings_in_forms(app, users) -> None:
    clerk = signed_in(app, "registrar")
    for body in (
        b"applicant_name=%FF%FE%FD&subject=%C3%28&channel=in_person&applicant_kind=natural_person",
        b"applicant_name=\xff\xfe&subject=\xc3\x28",
        "applicant_name=张三&subject=文件".encode("gbk"),
        b"%%%%&&&===",
    ):
        response = clerk.post(
            "/requests/new", data=body, content_type="application/x-www-form-urlencoded"
        )
        assert_not_broken(response)
    anonymous = app.test_client()
    response = anonymous.post(
        "/login",
        data=b"username=%FF&password=\xff",
        content_type="application/x-www-form-urlencoded",
    )
    assert_not_broken(response)


# --------------------------------------------------------------------------- importer


def ledger_bytes(rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


ledger_row = st.fixed_dictionaries(
    {
        "agency": st.one_of(st.just("test-agency"), hostile_text),
        "ref": hostile_text,
        "applicant_name": hostile_text,
        "applicant_kind": st.one_of(st.just("natural_person"), hostile_text),
        "channel": st.one_of(st.just(""), hostile_text),
        "received_on": dates,
        "subject": hostile_text,
        "concluded_on": st.one_of(st.just(""), dates),
        "outcome": st.one_of(st.just(""), st.just("disclosed"), hostile_text),
        "voided": st.one_of(st.just(""), hostile_text),
    }
)


def import_all(session, data: bytes):
    try:
        raw = read_ledger_bytes(data, "upload.csv")
    except LedgerFileError as exc:
        assert str(exc)
        return None
    rows, problems = validate_rows(raw, local_today(NOW))
    source = ImportSource.of_file("import-ledger", "upload.csv", data)
    report = import_ledger(
        session, rows, source, NOW, False, prior_errors=problems, total_rows=len(raw)
    )
    if report.stored:
        session.commit()
    else:
        session.rollback()
    return report


@PROFILE
@given(rows=st.lists(ledger_row, min_size=1, max_size=4))
def test_ledger_import_survives_anything(session, agency, users, rows) -> None:
    before = session.scalar(select(func.count()).select_from(Request))
    report = import_all(session, ledger_bytes(rows))
    after = session.scalar(select(func.count()).select_from(Request))
    if report is None or not report.ok:
        assert after == before  # all or nothing
    else:
        assert after == before + len(rows)
        for error in report.errors:
            assert re.match(r"第\d+行", str(error))


@PROFILE
@given(data=st.binary(max_size=2000))
def test_ledger_reader_survives_random_bytes(session, agency, users, data) -> None:
    import_all(session, data)


def test_ledger_in_the_wrong_encoding_is_refused_clearly(session, agency, users) -> None:
    row = {name: "" for name in COLUMN_NAMES} | {
        "agency": "test-agency",
        "ref": "1",
        "applicant_name": "张三",
        "applicant_kind": "自然人",
        "received_on": "2026-11-02",
        "subject": "某文件",
    }
    # GBK is what Chinese Excel writes: read as such. UTF-16 is refused with the fix.
    (read,) = read_ledger_bytes(ledger_bytes([row], "gbk"), "ledger.csv")
    assert read.cells["applicant_name"] == "张三"
    with pytest.raises(LedgerFileError, match=r"UTF-16.*另存为"):
        read_ledger_bytes(ledger_bytes([row], "utf-16"), "ledger.csv")
    broken_zip = b"PK\x03\x04" + bytes(range(256)) * 4
    with pytest.raises(LedgerFileError):
        read_ledger_bytes(broken_zip, "ledger.xlsx")


# --------------------------------------------------------------------------- output


def test_stored_markup_is_escaped_everywhere(app, session, agency, users) -> None:
    req = registered_request(session, agency, users["registrar"], SCRIPT, subject=SCRIPT)
    for username, url in (
        ("registrar", f"/requests/{req.id}"),
        ("registrar", "/requests"),
        ("viewer", f"/audit/requests/{req.id}"),
        ("registrar", "/dashboard"),
    ):
        text = signed_in(app, username).get(url).get_data(as_text=True)
        assert SCRIPT not in text, url
    detail = signed_in(app, "registrar").get(f"/requests/{req.id}").get_data(as_text=True)
    assert "&lt;script&gt;" in detail


def csv_cells(response) -> list[str]:
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize("payload", [FORMULA, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"])
def test_csv_exports_neutralise_formulas(app, session, agency, users, payload) -> None:
    req = registered_request(session, agency, users["registrar"], payload, subject=payload)
    exports = [f"/audit/export.csv?request={req.id}"]
    if "requests.export_csv" in app.view_functions:
        exports.append("/requests/export.csv")
    client = signed_in(app, "viewer")
    for url in exports:
        cells = csv_cells(client.get(url))
        stored = payload.strip(string.whitespace)
        as_json = json.dumps(stored, ensure_ascii=False)[1:-1]  # inside the payload column
        assert any(stored in cell or as_json in cell for cell in cells), url
        dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert dangerous == [], (url, dangerous)


# --------------------------------------------------------------------------- query strings

#: Every query parameter some page reads (a new one is harmless here, merely untested).
QUERY_NAMES = [
    "q",
    "agency",
    "year",
    "page",
    "state",
    "format",
    "table",
    "cell",
    "subs",
    "request",
    "user",
    "frozen",
    "kind",
    "n",
    "next",
    "after",
    "channel",
    "handler",
    "outcome",
    "overdue",
    "sort",
]


@pytest.fixture
def world(session, agency, users):
    from tests.integration.world import build_world

    return build_world(session, agency, users)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(st.one_of(hostile_text, st.just("\x00")), min_size=3, max_size=3))
def test_every_page_survives_hostile_query_strings(app, session, world, users, values) -> None:
    from tests.integration.routes import call_for, methods_of, rules, signed_in, url_of

    client = signed_in(app, session, users["admin"])
    for rule in rules(app):
        if "GET" not in methods_of(rule) or rule.endpoint == "static":
            continue
        url = url_of(app, rule, call_for(rule, world, session))
        query = {name: values[i % len(values)] for i, name in enumerate(QUERY_NAMES)}
        response = client.get(url.split("?")[0], query_string=query)
        assert response.status_code < 500, (url, query, response.get_data(as_text=True)[:300])


def test_nul_characters_are_removed_before_any_view(app, session, agency, users) -> None:
    """PostgreSQL cannot compare a text holding NUL: such input must never reach a query."""
    client = signed_in(app, "viewer")
    for url in ("/statistics?agency=%00", "/requests?q=%00&kind=nat%00ural_person", "/audit?q=%00"):
        assert client.get(url).status_code == 200, url
    page = app.test_client().post("/login", data={"username": "vie\x00wer", "password": PASSWORD})
    assert page.status_code == 302  # the NUL is dropped, as clean_text drops control characters
