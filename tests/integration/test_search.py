"""Chinese full-text search on the request list: words, identifiers, paging, checks.

The world: requests about land expropriation (征收), demolition (拆迁), subsistence
allowance (低保) and others, each registered through the workflow, so their words are
written by the same projection as in production. The word index is the database's own
(SQLite FTS5 here, PostgreSQL's GIN index in the suite's second pass).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select, text, update

from models import Request, RequestFacts, User
from models.db import make_session_factory
from tests.conftest import NOW, make_role_users, make_test_agency
from tests.integration.routes import signed_in
from tests.integration.test_cli import cli
from tests.templates import Templates
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops
from workflow.requests import query as request_query
from workflow.requests.search import index_problems
from workflow.store.calendar import load_calendar

FIRST_DAY = date(2025, 10, 6)
SUBJECTS = {
    0: "申请公开某村集体土地征收补偿方案",
    1: "拆迁安置协议及补偿标准",
    2: "本人低保资格认定的依据",
    3: "国有土地上房屋征收与补偿决定",
    4: "城乡最低生活保障金发放名单",
    5: "申请公开道路拆迁公告",
    6: "某某镇财政预算执行情况",
}
#: Filler requests, all about 征收, so a common word spans several pages.
COMMON = 60
NAMES = {0: "张三丰", 2: "李低保", 5: "征收拆迁服务有限公司"}
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
LEDGER_REF = "TZ-2025-077"

NUMBER = re.compile(r'<a href="/requests/(\d+)">')
NEXT = re.compile(r'href="(/requests\?[^"]*)" rel="next"')


def _fill(engine: Engine) -> None:
    session = make_session_factory(engine)()
    agency = make_test_agency(session)
    users = make_role_users(session, agency)
    actor = Actor.of(users["registrar"])
    for i in range(len(SUBJECTS) + COMMON):
        raw = {
            "applicant_name": NAMES.get(i, f"申请人{i}"),
            "applicant_kind": "commercial_enterprise" if i == 5 else "natural_person",
            "subject": SUBJECTS.get(i, f"第{i}号地块征收情况"),
            "channel": "in_person",
            "submitted_on": (FIRST_DAY + timedelta(days=i)).isoformat(),
        }
        if i == 2:
            raw |= {"phone": PHONE, "id_type": "resident_id", "id_number": ID_NUMBER}
        ops.register(
            session, actor, NOW, raw, agency=agency, external_ref=LEDGER_REF if i == 6 else None
        )
        session.commit()
    session.close()


@pytest.fixture(scope="session")
def search_template(templates: Templates) -> Templates:
    templates.build("search", _fill, start="empty")
    return templates


@pytest.fixture
def db_url(search_template: Templates, tmp_path) -> str:
    return search_template.copy("search", "test", tmp_path)


@pytest.fixture
def world(app, session):
    """The viewer's client and the request ids by their index in the world."""
    viewer = session.scalar(select(User).where(User.username == "viewer"))
    ids = list(session.scalars(select(Request.id).order_by(Request.id)))
    return signed_in(app, session, viewer), ids


def found(client, q: str, **args: str) -> set[int]:
    """Every request id the list shows for ``q``, following 下一页 to the end."""
    response = client.get("/requests", query_string={"q": q, **args})
    seen: list[int] = []
    for _ in range(50):
        assert response.status_code == 200
        seen += [int(i) for i in NUMBER.findall(response.text)]
        link = NEXT.search(response.text)
        if not link:
            assert len(seen) == len(set(seen)), "a request was shown twice"
            return set(seen)
        response = client.get(link.group(1).replace("&amp;", "&"))
    raise AssertionError("the pages never end")


def of(ids: list[int], *indexes: int) -> set[int]:
    return {ids[i] for i in indexes}


def test_two_character_words_are_found_and_only_where_they_occur(world) -> None:
    client, ids = world
    fillers = set(range(len(SUBJECTS), len(SUBJECTS) + COMMON))
    assert found(client, "拆迁") == of(ids, 1, 5)
    assert found(client, "低保") == of(ids, 2)  # in the subject, and in 李低保's name
    assert found(client, "征收") == of(ids, 0, 3, 5, *fillers)  # 5: the company's name
    assert found(client, "保障") == of(ids, 4)  # inside 保障金 (search-mode inner word)


def test_every_word_of_a_query_must_occur(world) -> None:
    client, ids = world
    assert found(client, "拆迁 补偿") == of(ids, 1)
    assert found(client, "征收补偿") == of(ids, 0, 3)
    assert found(client, "补偿 低保") == set()


def test_applicant_names_are_found_by_their_parts(world) -> None:
    client, ids = world
    assert found(client, "张三丰") == of(ids, 0)
    assert found(client, "张三") == of(ids, 0)
    assert found(client, "三丰") == of(ids, 0)


def test_unjoined_characters_must_stay_together(world) -> None:
    client, ids = world
    # 某某 is not a dictionary word: a phrase of 某 and 某, not every 某 on its own.
    assert found(client, "某某") == of(ids, 6)


def test_exact_identifiers(world, session) -> None:
    client, ids = world
    second = session.get(Request, ids[2])
    assert found(client, second.tracking_no) == of(ids, 2)
    assert found(client, PHONE) == of(ids, 2)
    assert found(client, ID_NUMBER) == of(ids, 2)
    assert found(client, LEDGER_REF) == of(ids, 6)
    assert found(client, PHONE[:7]) == of(ids, 2)  # the start of a phone number, as read out
    assert found(client, ID_NUMBER[:7]) == set()  # other identifiers are compared whole


def test_search_combines_with_the_other_filters(world) -> None:
    client, ids = world
    assert found(client, "拆迁", kind="commercial_enterprise") == of(ids, 5)
    assert found(client, "拆迁", kind="natural_person") == of(ids, 1)
    assert found(client, "征收", sort="tracking_asc") == found(client, "征收")


def test_a_common_word_is_reachable_page_by_page_with_its_count(world, monkeypatch) -> None:
    client, _ = world
    from views import requests as request_views

    monkeypatch.setattr(request_views, "PAGE_SIZE", 7)
    everything = found(client, "征收")
    assert len(everything) == COMMON + 3
    assert f"共 {COMMON + 3} 件" in client.get("/requests", query_string={"q": "征收"}).text


def test_notes_are_searched_once_recorded(world, session) -> None:
    client, ids = world
    request = session.get(Request, ids[6])
    handler = Actor.of(session.scalar(select(User).where(User.username == "handler")))
    assert found(client, "宗地图") == set()
    ops.fire(
        session,
        request,
        "request_supplement",
        handler,
        NOW,
        {"effective_date": "2026-11-20", "items": "请写明地块", "due_on": "2026-12-15"},
    )
    session.commit()
    ops.fire(
        session,
        request,
        "receive_supplement",
        handler,
        NOW,
        {"effective_date": "2026-11-20", "note": "补交了宗地图"},
    )
    session.commit()
    assert found(client, "宗地图") == of(ids, 6)


def test_hostile_queries_are_words_not_syntax(world) -> None:
    client, _ = world
    for q in ['"', "征收 OR 拆迁", "NEAR(征收", "*", "征收'", "a & b | !c", "拆迁:*", "^低保"]:
        assert client.get("/requests", query_string={"q": q}).status_code == 200
    assert found(client, "征收 OR 拆迁") == set()  # OR is a word here, not an operator


def test_csv_export_holds_the_same_matches(world) -> None:
    client, _ = world
    export = client.get("/requests/export.csv", query_string={"q": "拆迁"}).text
    assert export.count("\n") == 1 + 2  # the header and the two matches


def test_the_list_query_and_the_page_agree(world, session) -> None:
    _, ids = world
    flt = request_query.ListFilter.parse({"q": "低保"})
    agency_ids = [session.get(Request, ids[0]).agency_id]
    page = request_query.list_page(
        session, agency_ids, flt, load_calendar(session), NOW.date(), size=10, count_cap=100
    )
    assert [r.id for r in page.rows] == [ids[2]] and page.total == 1


def test_stats_verify_checks_the_words_and_the_index(world, session, db_url) -> None:
    _, ids = world
    assert cli(db_url, "stats-verify").returncode == 0
    session.execute(
        update(RequestFacts).where(RequestFacts.request_id == ids[1]).values(search_text="别的")
    )
    session.commit()
    stale = cli(db_url, "stats-verify")
    assert (
        stale.returncode != 0
        and "1 件申请的统计投影与事件日志不一致" in stale.stdout + stale.stderr
    )
    assert cli(db_url, "stats-verify", "--repair").returncode == 0
    assert cli(db_url, "stats-verify").returncode == 0
    assert found(world[0], "拆迁") == of(ids, 1, 5)


def test_stats_verify_finds_a_damaged_sqlite_index(world, session, db_url) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL maintains its GIN index in the row's own transaction")
    _, ids = world
    words = session.get(RequestFacts, ids[1]).search_text
    session.execute(
        text(
            "INSERT INTO request_search(request_search, rowid, search_text) "
            "VALUES ('delete', :id, :words)"
        ),
        {"id": ids[1], "words": words},
    )
    session.commit()
    assert index_problems(session)
    session.rollback()  # the check is a write statement on SQLite: end its transaction
    broken = cli(db_url, "stats-verify")
    assert broken.returncode != 0 and "全文索引" in broken.stdout + broken.stderr
    assert cli(db_url, "stats-verify", "--repair").returncode == 0
    assert index_problems(session) == []
    session.rollback()
    assert found(world[0], "拆迁") == of(ids, 1, 5)


@pytest.mark.parametrize(
    "q",
    [
        "征收",
        "拆迁",
        "最低生活保障",
        "某某镇",
        "张三丰",
        "三丰",
        "李低",
        "第9号地块",
        "申请公开 补偿",
    ],
)
def test_every_search_plan_finds_the_same_pages(world, monkeypatch, q: str) -> None:
    """The three plans of ``search.matches`` — the matches looked up by id and sorted, the
    list's order walked against the index's matches (SQLite, a common word), and the
    list's order walked reading each row's stored words (a word dense among the newest
    requests) — give the same requests, in the same order, with the same count, for
    single words, inner words, phrases of single characters, name pieces and two words."""
    client, _ = world

    def pages() -> tuple[list[str], str, set[int]]:
        first = client.get("/requests", query_string={"q": q, "sort": "tracking_asc"}).text
        return NUMBER.findall(first), re.search(r"共 \d+ 件", first).group(0), found(client, q)

    from workflow.requests import search

    plans = {}
    monkeypatch.setattr(search, "_dense_in_scope", lambda *_: True)  # read every row
    plans["row by row"] = pages()
    monkeypatch.setattr(search, "_dense_in_scope", lambda *_: False)  # the word index
    plans["by id"] = pages()
    monkeypatch.setattr(search, "COMMON_MATCHES", 1)  # SQLite: walk against the index
    plans["walk against the index"] = pages()
    assert plans["by id"][2], f"{q} should match something in this world"
    assert plans["row by row"] == plans["by id"] == plans["walk against the index"]


def test_a_dense_word_is_read_row_by_row_and_a_rare_one_from_the_index(world, session) -> None:
    """征收 is in most of the newest requests (the dense plan); 低保 in one (the index)."""
    from workflow.requests import search
    from workflow.requests.search_text import parse_query

    assert search._dense_in_scope(session, parse_query("征收"), None)
    assert not search._dense_in_scope(session, parse_query("低保"), None)
