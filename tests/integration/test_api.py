"""The JSON API v1 over real HTTP (gunicorn), on SQLite and PostgreSQL.

What a platform or a script relies on: the bearer token acts as its user (and a session
cookie never does), the contract's resources (validated against the OpenAPI document
the API serves), the same legal checks as the staff pages with their Chinese reasons,
optimistic locking, idempotent transfers, and statistics equal to ``stats --json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from openapi_spec_validator import validate
from pypdf import PdfReader
from sqlalchemy import func, select

from models import ApiToken, Event, Request, RequestTransfer, User
from tests.conftest import PASSWORD
from tests.integration.api_http import (
    API,
    ROOT,
    ApiWorld,
    Client,
    conforms,
    days_ago,
    document,
    populate,
    registration,
    serve,
    today,
)
from workflow.online.tokens import create_token, revoke_token
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.spec import TRANSITIONS


@pytest.fixture(scope="module")
def world(templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    url = templates.copy("empty", "api", tmp_path_factory.mktemp("api"))
    agency, child, other, tokens = populate(url)
    with serve(url) as base:
        yield ApiWorld(base, url, agency, child, other, tokens)


def register(world: ApiWorld, who: str = "registrar", **fields) -> dict:
    answer = world.client(who).post("requests", registration(**fields))
    assert answer.status == 201, answer.body.decode()
    return answer.json


def fire(world: ApiWorld, request_id: int, body: dict, who: str = "handler"):
    return world.client(who).post(f"requests/{request_id}/events", body)


def concurrently(*calls):
    """Run the calls at the same moment (one thread each); their answers in order."""
    answers: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def count(world: ApiWorld, model, *where) -> int:
    with world.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# --------------------------------------------------------------------------- the document


def test_the_served_document_is_valid_openapi_generated_from_the_spec(world) -> None:
    served = world.client().get("openapi.json").json  # no token needed for the description
    validate(served)
    assert served == json.loads(json.dumps(document()))
    schemas = served["components"]["schemas"]
    for spec in TRANSITIONS:
        if spec.trigger == "register":
            continue
        body = schemas[f"Fire_{spec.trigger}"]
        payload = body["properties"]["payload"]
        assert body["properties"]["trigger"] == {"const": spec.trigger}
        assert set(payload["properties"]) == {f.name for f in spec.fields}
        required = {f.name for f in spec.fields if f.required and f.default is None}
        assert set(payload.get("required", [])) == required
        assert payload["additionalProperties"] is False
    extend = schemas["Fire_extend"]["properties"]["payload"]["properties"]
    assert extend["days"] == {
        "type": "integer",
        "title": "延长工作日数",
        "minimum": 1,
        "maximum": 20,
        "default": 20,
    }
    assert set(schemas["Registration"]["properties"]) == {f.name for f in INTAKE_FIELDS} | {
        "agency",
        "backdate_reason",
    }


# --------------------------------------------------------------------------- authentication


def test_no_token_or_a_bad_one_is_401_json(world) -> None:
    for client in (world.client(), Client(world.base, "not-a-token")):
        for answer in (client.get("requests"), client.post("requests", registration())):
            assert answer.status == 401
            assert "令牌" in answer.json["error"]
            assert answer.headers["www-authenticate"].startswith("Bearer")
    basic = world.client().get("requests", headers={"Authorization": "Basic YTpi"})
    assert basic.status == 401


def test_a_session_cookie_alone_never_authorises_the_api(world) -> None:
    """Signed in through the login page: the cookie opens the pages, never the API."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login_page = opener.open(world.base + "/login").read().decode()
    csrf = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"username": "api-registrar", "password": PASSWORD, "csrf_token": csrf}
    opener.open(world.base + "/login", urllib.parse.urlencode(form).encode())
    assert opener.open(world.base + "/requests").status == 200  # signed in for the pages
    before = count(world, Request)
    body = json.dumps(registration()).encode()
    request = urllib.request.Request(
        world.base + API + "/requests", body, {"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request)
    assert refused.value.code == 401
    assert count(world, Request) == before


def test_revoked_tokens_and_stopped_accounts_are_refused(world) -> None:
    with world.session() as session:
        issued = create_token(session, "api-viewer", "临时")
        session.commit()
        client = Client(world.base, issued.token)
        assert client.get("requests").status == 200
        admin = session.scalar(select(User).where(User.username == "api-admin"))
        revoke_token(session, issued.row.id, datetime.now(UTC), by=admin)
        session.commit()
        assert client.get("requests").status == 401
        assert session.get(ApiToken, issued.row.id).revoked_by_id == admin.id
        again = create_token(session, "api-approver2")
        session.commit()
        assert Client(world.base, again.token).get("requests").status == 200
        user = session.scalar(select(User).where(User.username == "api-approver2"))
        user.active = False
        session.commit()
        assert Client(world.base, again.token).get("requests").status == 401
        user.active = True
        session.commit()


def test_the_token_is_stored_only_as_its_hash_and_printed_once(world) -> None:
    env = {**os.environ, "DATABASE_URL": world.url}
    done = subprocess.run(
        [sys.executable, "app.py", "create-token", "api-legal", "--label", "法制脚本"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = done.stdout.strip()
    assert len(token) >= 40 and "只显示这一次" in done.stderr
    with world.session() as session:
        stored = [t.token_hash for t in session.scalars(select(ApiToken))]
    assert token not in stored and len(stored[0]) == 64
    assert Client(world.base, token).get("requests").status == 200
    unknown = subprocess.run(
        [sys.executable, "app.py", "create-token", "nobody"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 1 and "nobody" in unknown.stderr


# --------------------------------------------------------------------------- registering


def test_register_answers_201_with_the_request_resource(world) -> None:
    answer = world.client("registrar").post(
        "requests", registration(received_on=days_ago(3), phone="13800000000")
    )
    assert answer.status == 201
    resource = answer.json
    conforms(resource, "Request")
    assert answer.headers["location"] == f"{API}/requests/{resource['id']}"
    assert resource["agency"] == "api-agency" and resource["state"] == "registered"
    assert resource["received_on"] == days_ago(3) and resource["outcome"] is None
    [event] = resource["events"]
    assert event["trigger"] == "register" and event["actor"] == "api-registrar"
    assert resource["deadlines"]["reply_due"] > days_ago(3)
    assert world.client("viewer").get(f"requests/{resource['id']}").json == resource


def test_registration_checks_are_the_staff_forms(world) -> None:
    client = world.client("registrar")
    refused = client.post(
        "requests", registration(id_type="resident_id", id_number="110101199003071234")
    )
    assert refused.status == 422
    assert refused.json["errors"]["id_number"] == "居民身份证号码校验位不正确，请核对"
    future = client.post("requests", registration(submitted_on="2099-01-01"))
    assert future.json["errors"]["submitted_on"] == "提交日期不能晚于今天"
    missing = client.post("requests", {"applicant_kind": "natural_person"})
    assert set(missing.json["errors"]) >= {"applicant_name", "subject", "submitted_on"}


def test_wrong_types_and_unknown_fields_are_refused_per_field(world) -> None:
    before = count(world, Request)
    answer = world.client("registrar").post(
        "requests",
        {**registration(), "subject": {"a": 1}, "applicant_name": 7, "colour": "红"},
    )
    assert answer.status == 422
    errors = answer.json["errors"]
    assert errors["subject"] == "所需信息的内容描述：应为文本（字符串）"
    assert errors["applicant_name"] == "申请人姓名或名称：应为文本（字符串）"
    assert errors["colour"].startswith("未知字段“colour”")
    for raw in (json.dumps([registration()]), '"text"', "5", "null"):
        answer = world.client("registrar").post("requests", raw=raw.encode())
        assert answer.status == 422 and answer.json["errors"]["_"] == "应为 JSON 对象", raw
    assert count(world, Request) == before


def test_roles_and_agencies_apply_to_registration(world) -> None:
    viewer = world.client("viewer").post("requests", registration())
    assert viewer.status == 403
    assert viewer.json["error"].startswith("只有") and "可以进行此操作" in viewer.json["error"]
    foreign = world.client("registrar").post("requests", registration(agency="api-other"))
    assert foreign.status == 403 and foreign.json["error"] == "只能为本机关登记申请"
    unknown = world.client("registrar").post("requests", registration(agency="nowhere"))
    assert unknown.status == 422 and "nowhere" in unknown.json["errors"]["agency"]


# --------------------------------------------------------------------------- events


def test_firing_events_updates_the_resource(world) -> None:
    created = register(world)
    rid = created["id"]
    accepted = fire(world, rid, {"trigger": "accept", "effective_on": days_ago(2), "version": 1})
    assert accepted.status == 200, accepted.body.decode()
    conforms(accepted.json, "Request")
    assert accepted.json["state"] == "in_review" and accepted.json["version"] == 2
    extended = fire(
        world,
        rid,
        {
            "trigger": "extend",
            "effective_on": days_ago(1),
            "payload": {"days": 10, "reason": "需调阅档案", "approver": "api-approver"},
        },
        who="approver",
    )
    assert extended.status == 200, extended.body.decode()
    resource = extended.json
    assert resource["events"][-1]["payload"] == {
        "days": 10,
        "reason": "需调阅档案",
        "approver": "api-approver",
    }
    assert resource["deadlines"]["reply_due"] > created["deadlines"]["reply_due"]
    decided = fire(
        world,
        rid,
        {
            "trigger": "decide",
            "effective_on": today().isoformat(),
            "payload": {"outcome": "disclosed", "delivery": "email"},
        },
    )
    assert decided.json["state"] == "concluded" and decided.json["outcome"] == "disclosed"


def test_refusals_are_422_with_chinese_reasons(world) -> None:
    rid = register(world)["id"]
    fire(world, rid, {"trigger": "accept", "effective_on": days_ago(2)})
    cases = [
        ({"trigger": "extend", "effective_on": days_ago(1), "payload": {"days": "20"}}, "days"),
        ({"trigger": "extend", "effective_on": days_ago(1), "payload": {"reson": "x"}}, "reson"),
        ({"trigger": "extend", "effective_on": days_ago(1), "payload": []}, "payload"),
        ({"trigger": "fly", "effective_on": days_ago(1)}, "trigger"),
        ({"trigger": "accept", "effective_on": 20260101}, "effective_on"),
        ({"trigger": "decide", "effective_on": "2026-13-01"}, "effective_on"),
        ({"trigger": "decide", "effective_on": days_ago(1), "version": "1"}, "version"),
        ({"trigger": "decide", "effective_on": days_ago(1), "extra": 1}, "extra"),
        (
            {"trigger": "decide", "effective_on": days_ago(1), "payload": {"outcome": "x"}},
            "outcome",
        ),
    ]
    for body, field in cases:
        # The approver: an extension is the approver's own act (a handler gets 403).
        answer = fire(world, rid, body, who="approver")
        assert answer.status == 422, (body, answer.body.decode())
        assert field in answer.json["errors"], (body, answer.json)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.json["errors"][field]), answer.json
    guard = fire(world, rid, {"trigger": "accept", "effective_on": days_ago(1)})
    assert guard.status == 422 and guard.json["errors"]["_"] == "当前状态下不能进行“受理”"
    future = fire(
        world,
        rid,
        {"trigger": "decide", "effective_on": "2099-01-01", "payload": {
            "outcome": "disclosed", "delivery": "post"}},
    )  # fmt: skip
    assert future.status == 422 and "不能晚于今天" in future.json["errors"]["_"]
    with world.session() as session:
        assert session.scalar(select(func.count()).where(Event.request_id == rid)) == 2


def test_a_role_refusal_is_403_with_the_guards_reason(world) -> None:
    rid = register(world)["id"]
    for who in ("legal", "viewer", "admin"):
        answer = fire(world, rid, {"trigger": "accept", "effective_on": days_ago(1)}, who=who)
        assert answer.status == 403
        assert answer.json["error"] == "只有审核人、承办人、登记员可以进行此操作"
    void = fire(world, rid, {"trigger": "void", "effective_on": days_ago(1)}, who="registrar")
    assert void.status == 403 and void.json["error"] == "只有管理员、审核人可以进行此操作"


def test_other_agencies_cannot_write_and_superiors_only_read(world) -> None:
    child_request = register(world, who="child")
    rid = child_request["id"]
    # The superior agency sees its department's request but may not act on it.
    assert world.client("viewer").get(f"requests/{rid}").status == 200
    answer = fire(world, rid, {"trigger": "accept", "effective_on": days_ago(1)}, who="handler")
    assert answer.status == 403
    # Another agency does not even learn that it exists.
    assert world.client("outsider").get(f"requests/{rid}").status == 404
    assert fire(world, rid, {"trigger": "accept"}, who="outsider").status == 404
    assert world.client("outsider").get(f"requests/{rid}/notices").status == 404


def test_a_stale_version_is_409_and_changes_nothing(world) -> None:
    rid = register(world)["id"]
    assert fire(world, rid, {"trigger": "accept", "effective_on": days_ago(2)}).status == 200
    stale = fire(
        world,
        rid,
        {"trigger": "withdraw", "effective_on": days_ago(1), "version": 1},
    )
    assert stale.status == 409 and "刚刚已被他人更新" in stale.json["error"]
    assert world.client("viewer").get(f"requests/{rid}").json["state"] == "in_review"


def test_two_writes_with_the_same_version_one_409_nothing_lost(world) -> None:
    """Both workers act at once on version 2: one wins, the other is told, the log is whole."""
    for _round in range(3):
        rid = register(world)["id"]
        fire(world, rid, {"trigger": "accept", "effective_on": days_ago(2)})
        bodies = [
            {"trigger": "withdraw", "effective_on": days_ago(1), "version": 2},
            {
                "trigger": "request_supplement",
                "effective_on": days_ago(1),
                "version": 2,
                "payload": {"items": "请说明文件名称", "due_on": today().isoformat()},
            },
        ]
        answers = concurrently(*(lambda b=b, rid=rid: fire(world, rid, b) for b in bodies))
        statuses = sorted(a.status for a in answers)
        assert statuses == [200, 409], [a.body.decode() for a in answers]
        winner = next(a for a in answers if a.status == 200).json
        final = world.client("viewer").get(f"requests/{rid}").json
        assert final == {**winner, "deadlines": final["deadlines"]}
        assert [e["seq"] for e in final["events"]] == [1, 2, 3] and final["version"] == 3


# --------------------------------------------------------------------------- the list


def test_the_list_filters_and_pages_by_keyset(world) -> None:
    mine = [register(world, name=f"翻页{i}", subject=f"分页检索{i}")["id"] for i in range(5)]
    client = world.client("viewer")
    seen: list[int] = []
    after = None
    while True:
        query = "requests?q=分页检索&limit=2" + (f"&after={after}" if after else "")
        page = client.get(urllib.parse.quote(query, safe="?=&/~"))
        assert page.status == 200, page.body.decode()
        conforms(page.json, "RequestPage")
        assert len(page.json["items"]) <= 2
        seen += [r["id"] for r in page.json["items"]]
        after = page.json["next"]
        if after is None:
            break
    assert sorted(seen) == sorted(mine) and len(seen) == len(set(seen))
    assert all(
        r["state"] == "registered" for r in client.get("requests?state=registered").json["items"]
    )
    older = client.get(f"requests?received_to={days_ago(30)}").json["items"]
    assert older == []
    recent = client.get(f"requests?received_from={days_ago(3)}&limit=200").json["items"]
    assert set(mine) <= {r["id"] for r in recent}
    register(world, who="child")  # not only when an earlier test of this module ran here
    child = client.get("requests?agency=api-child&limit=200").json["items"]
    assert child and {r["agency"] for r in child} == {"api-child"}


def test_the_list_refuses_what_it_does_not_understand(world) -> None:
    client = world.client("viewer")
    for query, field in (
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("state=flying", "state"),
        ("received_from=yesterday", "received_from"),
        ("after=garbage", "after"),
        ("agency=api-other", "agency"),
        ("recieved_from=2026-01-01", "recieved_from"),
    ):
        answer = client.get(f"requests?{query}")
        assert answer.status == 422 and field in answer.json["errors"], (query, answer.json)
    outsider = world.client("outsider").get("requests?limit=200").json["items"]
    assert {r["agency"] for r in outsider} <= {"api-other"}


# --------------------------------------------------------------------------- statistics


def test_statistics_are_the_same_json_as_stats_json(world) -> None:
    register(world)
    year = today().year
    env = {**os.environ, "DATABASE_URL": world.url}
    for query, args in (
        (f"year={year}", []),
        (f"year={year}&with_subordinates=true&format=2019", ["--with-subordinates", "--format"]),
    ):  # fmt: skip
        printed = subprocess.run(
            [sys.executable, "app.py", "stats", "--agency", "api-agency", "--year", str(year),
             "--json", *args, *(["2019"] if args else [])],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        answer = world.client("viewer").get(f"statistics?{query}")
        assert answer.status == 200
        conforms(answer.json, "Statistics")
        assert answer.json == json.loads(printed)
    refused = world.client("viewer").get("statistics?year=abc&with_subordinates=maybe")
    assert set(refused.json["errors"]) == {"year", "with_subordinates"}
    assert world.client("outsider").get(f"statistics?agency=api-agency&year={year}").status == 404


# --------------------------------------------------------------------------- notices


def test_notices_are_issued_listed_and_served_as_stored(world) -> None:
    rid = register(world)["id"]
    client = world.client("registrar")
    issued = client.post(f"requests/{rid}/notices", {"kind": "receipt"})
    assert issued.status == 201, issued.body.decode()
    notice = issued.json
    conforms(notice, "Notice")
    listed = client.get(f"requests/{rid}/notices").json
    conforms(listed, "NoticeList")
    assert listed["items"] == [notice]
    pdf = world.client("viewer").get(notice["pdf"])
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body)).pages)
    assert notice["number"] in text and "张三" in text
    assert hashlib.sha256(pdf.body).hexdigest() == notice["sha256"]
    again = client.post(f"requests/{rid}/notices", {"kind": "receipt"})
    assert again.status == 409 and notice["number"] in again.json["error"]
    wrong = client.post(f"requests/{rid}/notices", {"kind": "poem", "x": 1})
    assert wrong.status == 422 and set(wrong.json["errors"]) == {"kind", "x"}
    early = client.post(f"requests/{rid}/notices", {"kind": "reply"})
    assert early.status == 422 and early.json["errors"]["_"]
    viewer = world.client("viewer").post(f"requests/{rid}/notices", {"kind": "reply"})
    assert viewer.status == 403
    assert world.client("outsider").get(notice["pdf"]).status == 404


# --------------------------------------------------------------------------- transfers


def transfer_body(reference: str, **extra) -> dict:
    return {
        **registration(name="热线来电人", subject="小区加装电梯审批文件"),
        "channel": "hotline_12345",
        "source": "12345",
        "reference": reference,
        **extra,
    }


def test_a_transfer_is_registered_once_however_often_it_is_sent(world) -> None:
    client = world.client("registrar")
    first = client.post("transfers", transfer_body("GD-2026-0001"))
    assert first.status == 201, first.body.decode()
    conforms(first.json, "Request")
    assert first.json["channel"] == "hotline_12345"
    assert first.json["transfer"] == {"source": "12345", "reference": "GD-2026-0001"}
    # Received the day the transfer arrives (Art. 31, the transfer channels' rule).
    assert first.json["received_on"] == today().isoformat()
    assert "收到转办之日" in first.json["events"][0]["payload"]["receipt_rule"]
    again = client.post("transfers", transfer_body("GD-2026-0001"))
    assert again.status == 200 and again.json["id"] == first.json["id"]
    other_source = client.post("transfers", transfer_body("GD-2026-0001", source="平台A"))
    assert other_source.status == 201 and other_source.json["id"] != first.json["id"]
    assert count(world, RequestTransfer, RequestTransfer.reference == "GD-2026-0001") == 2


def test_racing_retries_of_one_transfer_make_one_request(world) -> None:
    client = world.client("registrar")
    body = transfer_body("RACE-1", channel="platform")
    answers = concurrently(*[lambda: client.post("transfers", body)] * 3)
    assert sorted(a.status for a in answers) == [200, 200, 201], [a.body for a in answers]
    assert len({a.json["id"] for a in answers}) == 1
    assert count(world, RequestTransfer, RequestTransfer.reference == "RACE-1") == 1


def test_a_transfer_needs_a_transfer_channel_and_its_reference(world) -> None:
    client = world.client("registrar")
    answer = client.post("transfers", {**transfer_body(""), "channel": "in_person"})
    assert answer.status == 422
    assert set(answer.json["errors"]) == {"channel", "reference"}
    assert "12345热线转办" in answer.json["errors"]["channel"]
    assert world.client("viewer").post("transfers", transfer_body("V-1")).status == 403
