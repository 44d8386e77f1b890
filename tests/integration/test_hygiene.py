"""Hygiene (issue 18, item 9; review I5, I13, V13, V16): each probe as the review made it."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

import settings
from models import Agency, Request
from models.db import make_engine
from tests.conftest import PASSWORD, login
from tests.integration.test_cli import cli
from tests.integration.world import intake


@pytest.fixture
def clerk(app, users):
    client = app.test_client()
    assert login(client, "registrar", PASSWORD).status_code == 200
    return client


def test_pages_and_exports_are_never_cached(clerk) -> None:
    for url in ("/dashboard", "/requests", "/requests/export.csv"):
        answer = clerk.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == "no-store", url
    assert "no-store" not in clerk.get("/static/app.css").headers.get("Cache-Control", "")


def test_hsts_only_behind_https(app, clerk, monkeypatch) -> None:
    assert "Strict-Transport-Security" not in clerk.get("/dashboard").headers
    monkeypatch.setenv(settings.SECURE_COOKIES, "1")
    assert "max-age=31536000" in clerk.get("/login").headers["Strict-Transport-Security"]


def test_the_database_and_its_backups_are_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    dump = tmp_path / "backup.db"
    made = cli(f"sqlite:///{path}", "init")
    assert made.returncode == 0, made.stderr
    made = cli(f"sqlite:///{path}", "backup", str(dump))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600


def test_an_agency_name_is_text_in_the_xlsx(app, session, agency, users) -> None:
    evil = '=HYPERLINK("http://evil.example/","x")&"报告"'
    agency.name = evil
    session.commit()
    admin = app.test_client()
    assert login(admin, "admin", PASSWORD).status_code == 200
    xlsx = admin.get(f"/reports/xlsx?agency={agency.code}&year=2025")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(xlsx.data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(book.read(n).decode() for n in sheets)
        names = book.namelist()
        strings = (
            book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in names else ""
        )
    assert "<f>" not in xml  # no formula anywhere
    assert "HYPERLINK" in strings + xml  # the name kept, as text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\u200b", "请填写申请人姓名或名称"),
        ("\u200b\u2060\ufeff", "请填写申请人姓名或名称"),
        ("\U000e0041\U000e0042", "请填写申请人姓名或名称"),
        ("张三\u202e四李", "改变文字显示方向"),
        ("\u2067李四\u2069", "改变文字显示方向"),
    ],
)
def test_invisible_and_bidi_names_are_refused(clerk, session, name, message) -> None:
    before = session.scalar(select(func.count()).select_from(Request))
    page = clerk.post("/requests/new", data={**intake(), "applicant_name": name})
    assert page.status_code == 400
    assert message in page.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Request)) == before


def test_ordinary_names_still_pass(clerk) -> None:
    for name in ("欧阳娜娜", "Zoë Müller", "👩‍⚕️ 王医生"):
        assert (
            clerk.post("/requests/new", data={**intake(), "applicant_name": name}).status_code
            == 302
        )


def test_an_agency_named_with_an_override_is_refused(app, users, session) -> None:
    admin = app.test_client()
    assert login(admin, "admin", PASSWORD).status_code == 200
    page = admin.post(
        "/admin/agencies", data={"code": "dept", "name": "某局\u202e", "parent": "test-agency"}
    )
    assert page.status_code == 400
    assert session.scalar(select(func.count()).where(Agency.code == "dept")) == 0
