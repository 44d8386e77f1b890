"""Applicants' personal data encrypted at rest (issue 18 item 9; docs/domain.md §21.1).

With ``GONGKAI_PII_KEY`` set, what the database holds for an ID number, a phone number
and an address is ciphertext (read raw, below the ORM), while the pages, the exact
search and the ledger export show and find the clear values. Without the key, or with
another one, the application refuses to start with a message saying which; the command
that encrypts existing rows does all of them or none.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app import create_app
from models import Request
from models.pii import EncryptedComparison, check_database, convert_all, same
from tests.conftest import NOW
from tests.integration.routes import signed_in
from tests.integration.world import intake
from workflow.admin.log_check import verify_log
from workflow.kernel.actor import Actor
from workflow.kernel.pii import PiiKeyError, new_key
from workflow.requests import operations as ops
from workflow.requests.search import matches

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"
ADDRESS = "江西省南昌市红谷滩区丰和中大道1号"
CLEAR = (ID_NUMBER, PHONE, ADDRESS, ID_NUMBER[:10], "丰和中大道")


def _register(session, agency, clerk, id_number: str = ID_NUMBER) -> Request:
    raw = {
        **intake("王五"),
        "id_type": "resident_id",
        "id_number": id_number,
        "phone": PHONE,
        "address": ADDRESS,
    }
    request = ops.register(session, Actor.of(clerk), NOW, raw, agency=agency)
    session.commit()
    return request


def _raw_rows(session) -> list[str]:
    session.rollback()
    rows = session.execute(
        text("SELECT id_number, phone, address, id_number_hash, phone_hash FROM requests")
    ).all()
    return [str(value) for row in rows for value in row]


def _raw_log(session) -> str:
    session.rollback()
    return " ".join(str(p) for p in session.execute(text("SELECT payload FROM events")).scalars())


@pytest.fixture
def key(monkeypatch) -> str:
    value = new_key()
    monkeypatch.setenv("GONGKAI_PII_KEY", value)
    return value


def _found(session, q: str) -> list[int]:
    return list(session.scalars(select(Request.id).where(matches(session, q))))


def test_the_database_holds_no_plaintext(session, agency, users, key) -> None:
    request = _register(session, agency, users["registrar"])
    stored = _raw_rows(session)
    assert all(clear not in value for clear in CLEAR for value in stored), stored
    assert all(v.startswith("pii1:") for v in stored[:3])
    # The register event records the intake: its personal values are sealed too.
    log = _raw_log(session)
    assert "pii1:" in log and not any(clear in log for clear in CLEAR), log
    assert verify_log(session) == []  # the chain covers the clear values, read back
    session.expire_all()
    again = session.get(Request, request.id)
    assert (again.id_number, again.phone, again.address) == (ID_NUMBER, PHONE, ADDRESS)
    # The same value encrypts differently each time (no equal ciphertexts to compare).
    other = _register(session, agency, users["registrar"])
    first, second = session.execute(
        text("SELECT id_number FROM requests WHERE id IN (:a, :b)"),
        {"a": request.id, "b": other.id},
    ).scalars()
    assert first != second


def test_exact_search_by_id_number_and_phone_still_works(session, agency, users, key) -> None:
    request = _register(session, agency, users["registrar"])
    _register(session, agency, users["registrar"], "110105198001010016")
    assert _found(session, ID_NUMBER) == [request.id]
    assert _found(session, ID_NUMBER.lower()) == [request.id]  # the check character x
    assert request.id in _found(session, PHONE)
    # What stops working (documented): a phone number's beginning, parts of a number.
    assert _found(session, PHONE[:7]) == []
    assert _found(session, ID_NUMBER[:10]) == []


def test_the_pages_show_and_find_the_clear_values(app, session, agency, users, key) -> None:
    request = _register(session, agency, users["registrar"])
    client = signed_in(app, session, users["registrar"])
    listed = client.get("/requests", query_string={"q": ID_NUMBER})
    assert listed.status_code == 200 and request.tracking_no in listed.text
    detail = client.get(f"/requests/{request.id}")
    assert detail.status_code == 200
    assert ID_NUMBER in detail.text and PHONE in detail.text and ADDRESS in detail.text
    assert "pii1:" not in detail.text


def test_an_sql_comparison_with_an_encrypted_column_fails_loudly(session, key) -> None:
    with pytest.raises(EncryptedComparison):
        select(Request.id).where(Request.phone == PHONE)
    with pytest.raises(EncryptedComparison):
        select(Request.id).where(Request.id_number.startswith("1101"))
    # "Has no ID number" stays a plain test; same() is the way to compare a value.
    select(Request.id).where(Request.id_number == "", same(Request.phone, PHONE))


def test_without_the_key_the_app_refuses_to_start(
    engine, session, agency, users, key, monkeypatch, db_url
) -> None:
    _register(session, agency, users["registrar"])
    session.close()
    monkeypatch.delenv("GONGKAI_PII_KEY")
    with pytest.raises(PiiKeyError, match="未设置环境变量 GONGKAI_PII_KEY"):
        create_app({"DATABASE_URL": db_url, "TESTING": True})
    # Anything reading the rows below the app says the same, never shows ciphertext.
    with pytest.raises(PiiKeyError, match="GONGKAI_PII_KEY"):
        session.scalars(select(Request)).all()


def test_a_wrong_key_is_refused_with_a_clear_message(
    session, agency, users, key, monkeypatch, db_url
) -> None:
    _register(session, agency, users["registrar"])
    session.close()
    monkeypatch.setenv("GONGKAI_PII_KEY", new_key())
    with pytest.raises(PiiKeyError, match="不符"):
        create_app({"DATABASE_URL": db_url, "TESTING": True})
    monkeypatch.setenv("GONGKAI_PII_KEY", "too-short")
    with pytest.raises(PiiKeyError, match="格式不对"):
        create_app({"DATABASE_URL": db_url, "TESTING": True})


def test_encrypting_existing_rows_all_or_nothing(
    engine, session, agency, users, monkeypatch, db_url
) -> None:
    first = _register(session, agency, users["registrar"])
    second = _register(session, agency, users["registrar"], "110105198001010016")
    session.close()
    monkeypatch.setenv("GONGKAI_PII_KEY", new_key())
    # Switched on but not yet run: refused, so no row is missed by the exact search.
    with pytest.raises(PiiKeyError, match="pii-encrypt"):
        check_database(engine)
    assert convert_all(engine, encrypt=True) == 2
    assert convert_all(engine, encrypt=True) == 0  # again: nothing left to do
    check_database(engine)
    stored = _raw_rows(session)
    assert all(clear not in value for clear in CLEAR for value in stored)
    assert _found(session, ID_NUMBER) == [first.id]
    assert verify_log(session) == []  # the register events still match the rows
    # One damaged value: decrypting refuses, and leaves every row as it was.
    session.rollback()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE requests SET address = 'pii1:AAAA' || substr(address, 10) WHERE id = :i"),
            {"i": second.id},
        )
    before = _raw_rows(session)
    with pytest.raises(PiiKeyError, match="不符"):
        convert_all(engine, encrypt=False)
    assert _raw_rows(session) == before
    # Repaired (here: the address written again), decrypting restores the clear text.
    with engine.begin() as conn:
        conn.execute(text("UPDATE requests SET address = '' WHERE id = :i"), {"i": second.id})
    assert convert_all(engine, encrypt=False) == 2
    monkeypatch.delenv("GONGKAI_PII_KEY")
    check_database(engine)
    session.expire_all()
    assert session.get(Request, first.id).id_number == ID_NUMBER
    rows = session.execute(text("SELECT id_number, id_number_hash FROM requests")).all()
    assert {row.id_number_hash for row in rows} == {None}
    assert ID_NUMBER in {row.id_number for row in rows}


def test_rotating_the_key_keeps_the_log_readable(
    engine, session, agency, users, key, monkeypatch
) -> None:
    request = _register(session, agency, users["registrar"])
    session.close()
    # The log holds ciphertext now: switching encryption off is refused (it cannot be
    # rewritten), with the way to rotate instead.
    with pytest.raises(PiiKeyError, match="GONGKAI_PII_OLD_KEYS"):
        convert_all(engine, encrypt=False)
    monkeypatch.setenv("GONGKAI_PII_KEY", new_key())
    monkeypatch.setenv("GONGKAI_PII_OLD_KEYS", key)
    check_database(engine)  # the old key still opens the rows
    assert convert_all(engine, encrypt=True) == 1  # moved to the new key and index
    assert convert_all(engine, encrypt=True) == 0
    assert _found(session, ID_NUMBER) == [request.id]
    assert verify_log(session) == []  # events written under the old key still read
    monkeypatch.delenv("GONGKAI_PII_OLD_KEYS")
    check_database(engine)  # the requests no longer need the old key …
    session.expire_all()
    with pytest.raises(PiiKeyError, match="不符"):  # … the log does: never drop it
        verify_log(session)
