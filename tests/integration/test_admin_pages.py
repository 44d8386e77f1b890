"""The admin pages through the Flask test client: accounts, agencies, the calendar."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from models import Agency, CalendarOverride, CalendarYear, User
from tests.conftest import PASSWORD, login, make_user
from workflow.requests.deadlines import compute_deadlines
from workflow.store.calendar import load_calendar

NEW_USER = {
    "username": "clerk1",
    "display_name": "李登记",
    "agency": "test-agency",
    "roles": ["registrar", "handler"],
    "password": "long-enough-pw",
    "confirm": "long-enough-pw",
}
YEAR_2027 = {
    "year": "2027",
    "holidays": "2027-01-01~2027-01-03\r\n2027-02-05至2027-02-11",
    "workdays": "2027-02-13",
    "note": "国办发明电〔2026〕x号",
}


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def as_user(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    page = login(client, username, password)
    assert page.status_code == 200 and "欢迎" in page.text, page.text
    return client


@pytest.fixture
def admin(app, users):
    return as_user(app, "admin")


@pytest.fixture
def dept(session, agency) -> Agency:
    row = Agency(code="dept", name="某局", parent=agency)
    session.add(row)
    session.commit()
    return row


# --------------------------------------------------------------------------- accounts


def test_admin_creates_a_user_who_can_then_sign_in(app, admin, session) -> None:
    form = admin.get("/admin/users/new")
    assert form.status_code == 200
    assert "登记员" in form.text and "承办人" in form.text and "测试机关" in form.text
    made = admin.post("/admin/users/new", data=NEW_USER)
    assert made.status_code == 302 and made.headers["Location"].endswith("/admin/users")
    listing = admin.get("/admin/users")
    assert (
        "clerk1" in listing.text and "李登记" in listing.text and "登记员、承办人" in listing.text
    )
    clerk = app.test_client()
    first = login(clerk, "clerk1", "long-enough-pw")
    # The admin knows this password: the first login leads to changing it, and no page
    # opens before that (issue 15 item 10).
    assert first.status_code == 200 and "请先修改为只有您知道的密码" in first.text
    assert first.request.path == "/account/password"
    assert clerk.get("/requests").status_code == 302
    changed = clerk.post(
        "/account/password",
        data={
            "current_password": "long-enough-pw",
            "new_password": "clerk-own-secret",
            "confirm": "clerk-own-secret",
        },
    )
    assert changed.status_code == 302
    assert clerk.get("/requests").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "registrar"}, "username", "不可用"),
        ({"password": "short", "confirm": "short"}, "password", "至少12位"),
        ({"password": "password1234", "confirm": "password1234"}, "password", "常见密码"),
        ({"password": "clerk1-secret", "confirm": "clerk1-secret"}, "password", "用户名"),
        ({"confirm": "something-else"}, "confirm", "两次输入的密码不一致"),
        ({"agency": "nowhere"}, "agency", "不存在"),
        ({"roles": []}, "roles", "请至少选择一个角色"),
        ({"username": "有 空格"}, "username", "用户名为2–64位"),
    ],
)
def test_bad_user_input_is_shown_inline(admin, session, change, field, message) -> None:
    before = count(session, User)
    page = admin.post("/admin/users/new", data={**NEW_USER, **change})
    assert page.status_code == 400
    assert f'id="{field}-error"' in page.text and message in page.text
    assert count(session, User) == before


def test_edit_roles_deactivate_and_reset_password(app, admin, session, users) -> None:
    viewer = users["viewer"]
    page = admin.get(f"/admin/users/{viewer.id}")
    assert page.status_code == 200 and "重置密码" in page.text
    roles = admin.post(
        f"/admin/users/{viewer.id}/roles",
        data={"roles": ["viewer", "legal"], "admin_password": PASSWORD},
    )
    assert roles.status_code == 302
    session.expire_all()
    assert session.get(User, viewer.id).roles == {"viewer", "legal"}

    reset = admin.post(
        f"/admin/users/{viewer.id}/password",
        data={"password": "another-pw-1", "confirm": "another-pw-1", "admin_password": PASSWORD},
    )
    assert reset.status_code == 302
    as_user(app, "viewer", "another-pw-1")

    off = admin.post(f"/admin/users/{viewer.id}/active", data={"active": "0"})
    assert off.status_code == 302
    refused = login(app.test_client(), "viewer", "another-pw-1")
    assert refused.status_code == 401
    on = admin.post(f"/admin/users/{viewer.id}/active", data={"active": "1"})
    assert on.status_code == 302
    as_user(app, "viewer", "another-pw-1")

    short = admin.post(
        f"/admin/users/{viewer.id}/password",
        data={"password": "x", "confirm": "x", "admin_password": PASSWORD},
    )
    assert short.status_code == 400 and "至少12位" in short.text


def test_an_admin_cannot_lock_themself_out(admin, session, users) -> None:
    me = users["admin"]
    off = admin.post(f"/admin/users/{me.id}/active", data={"active": "0"})
    assert off.status_code == 400 and "不能停用自己的账号" in off.text
    demote = admin.post(
        f"/admin/users/{me.id}/roles", data={"roles": ["viewer"], "admin_password": PASSWORD}
    )
    assert demote.status_code == 400 and "不能取消自己的管理员角色" in demote.text
    session.expire_all()
    row = session.get(User, me.id)
    assert row.active and row.roles == {"admin"}


def test_subordinate_admin_cannot_touch_the_parent_agency(app, session, users, dept) -> None:
    make_user(session, dept, "dept-admin", "admin")
    dept_clerk = make_user(session, dept, "dept-clerk", "registrar")
    client = as_user(app, "dept-admin")
    top_clerk = users["registrar"]

    listing = client.get("/admin/users")
    assert "dept-clerk" in listing.text and f"/admin/users/{top_clerk.id}" not in listing.text
    assert client.get(f"/admin/users/{dept_clerk.id}").status_code == 200
    assert client.get(f"/admin/users/{top_clerk.id}").status_code == 404
    for action, data in (
        ("roles", {"roles": ["admin"]}),
        ("active", {"active": "0"}),
        ("password", {"password": "hijacked-pw", "confirm": "hijacked-pw"}),
    ):
        assert client.post(f"/admin/users/{top_clerk.id}/{action}", data=data).status_code == 404
    session.expire_all()
    row = session.get(User, top_clerk.id)
    assert row.active and row.roles == {"registrar"} and row.check_password(PASSWORD)

    before = count(session, User)
    outside = client.post("/admin/users/new", data=NEW_USER)  # agency: test-agency
    assert outside.status_code == 400 and count(session, User) == before
    agency_page = client.get("/admin/agencies")
    assert "测试机关" not in agency_page.text.split("<main", 1)[1].split("</table>")[0]
    above = client.post(
        "/admin/agencies", data={"code": "x", "name": "某处", "parent": "test-agency"}
    )
    assert above.status_code == 400 and "只能在本机关或下级机关之下" in above.text

    calendar = client.get("/admin/calendar")
    assert calendar.status_code == 200 and "只有最上级机关的管理员可以修改" in calendar.text
    assert client.post("/admin/calendar/years", data=YEAR_2027).status_code == 403
    assert count(session, CalendarOverride) == 0


# --------------------------------------------------------------------------- access


def _admin_urls(app, sample: dict[str, object]) -> list[tuple[str, str]]:
    """Every (method, URL) the admin blueprint serves, so a new route is covered too."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            url = url_for(rule.endpoint, **{a: sample[a] for a in rule.arguments})
            found += [(m, url) for m in sorted(rule.methods & {"GET", "POST"})]
    return found


def test_non_admins_get_403_on_every_admin_route(app, session, users) -> None:
    urls = _admin_urls(
        app,
        {
            "user_id": users["registrar"].id,
            "day": "2027-03-01",
            "agency_id": users["registrar"].agency_id,
            "code": "test-agency",
        },
    )
    assert len(urls) >= 12
    anonymous = app.test_client()
    for method, url in urls:
        answer = anonymous.open(url, method=method)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], url
    for role in ("registrar", "handler", "approver", "legal", "viewer"):
        client = as_user(app, role)
        for method, url in urls:
            data = {"active": "0", "roles": ["admin"], **YEAR_2027} if method == "POST" else None
            answer = client.open(url, method=method, data=data)
            assert answer.status_code == 403, (role, method, url)
    session.expire_all()
    assert session.get(User, users["registrar"].id).roles == {"registrar"}
    assert count(session, CalendarYear) == 0


# --------------------------------------------------------------------------- agencies


def test_agency_tree_and_create(admin, session, dept) -> None:
    made = admin.post(
        "/admin/agencies", data={"code": "dept-unit", "name": "某所", "parent": "dept"}
    )
    assert made.status_code == 302
    tree = admin.get("/admin/agencies").text.split("<table", 1)[1].split("</table>")[0]
    assert tree.index("测试机关") < tree.index("某局") < tree.index("某所")
    assert "depth-2" in tree
    bad = admin.post("/admin/agencies", data={"code": "Bad Code", "name": "", "parent": "dept"})
    assert bad.status_code == 400
    assert 'id="code-error"' in bad.text and 'id="name-error"' in bad.text
    dup = admin.post("/admin/agencies", data={"code": "dept", "name": "某局", "parent": "dept"})
    assert dup.status_code == 400 and "不可用" in dup.text
    assert count(session, Agency) == 3


# --------------------------------------------------------------------------- calendar


def test_entering_the_2027_arrangement(admin, session) -> None:
    page = admin.get("/admin/calendar")
    assert page.status_code == 200
    assert "保存后各申请的期限将按新安排重新计算" in page.text
    assert re.search(
        r"2027年</td>\s*<td[^>]*><span class=\"state calendar-provisional\"", page.text
    )
    before = load_calendar(session)
    december = compute_deadlines(date(2026, 12, 10), [], before, date(2026, 12, 10))
    january = compute_deadlines(date(2027, 1, 15), [], before, date(2027, 1, 15))
    assert december.reply_due == date(2027, 1, 8) and december.provisional
    assert january.reply_due == date(2027, 2, 12) and january.provisional

    saved = admin.post("/admin/calendar/years", data=YEAR_2027)
    assert saved.status_code == 302
    page = admin.get(saved.headers["Location"])
    assert "放假 10 天、调休上班 1 天" in page.text and "国办发明电〔2026〕x号" in page.text
    assert "2027-02-05~2027-02-11" in page.text  # the stored year, ready to edit

    session.expire_all()
    after = load_calendar(session)
    december = compute_deadlines(date(2026, 12, 10), [], after, date(2026, 12, 10))
    january = compute_deadlines(date(2027, 1, 15), [], after, date(2027, 1, 15))
    assert december.reply_due == date(2027, 1, 8) and not december.provisional
    assert january.reply_due == date(2027, 2, 18) and not january.provisional

    again = admin.post("/admin/calendar/years", data={**YEAR_2027, "workdays": ""})
    assert again.status_code == 302
    assert count(session, CalendarOverride) == 10


def test_a_bad_line_is_reported_with_its_number_and_nothing_is_saved(admin, session) -> None:
    data = {**YEAR_2027, "holidays": "2027-01-01\n\n2027-02-30\n2027-02-05~2027-02-11"}
    page = admin.post("/admin/calendar/years", data={**data, "workdays": "2027-02-10"})
    assert page.status_code == 400
    assert "第3行：“2027-02-30”不是有效日期" in page.text
    assert "第1行：2027-02-10 是周三" in page.text
    assert "2027-02-30" in page.text.split('id="holidays"', 1)[1]  # what was typed is kept
    assert count(session, CalendarOverride) == 0 and count(session, CalendarYear) == 0


def test_add_and_delete_an_override(admin, session) -> None:
    added = admin.post(
        "/admin/calendar/overrides",
        data={"override-day": "2027-03-01", "override-kind": "restday", "override-note": "地方"},
    )
    assert added.status_code == 302
    page = admin.get("/admin/calendar")
    assert "2027-03-01" in page.text and "/admin/calendar/overrides/2027-03-01/delete" in page.text
    assert not load_calendar(session).is_workday(date(2027, 3, 1))

    bad = admin.post(
        "/admin/calendar/overrides", data={"override-day": "2027-02-30", "override-kind": ""}
    )
    assert bad.status_code == 400 and 'id="override-day-error"' in bad.text

    gone = admin.post("/admin/calendar/overrides/2027-03-01/delete")
    assert gone.status_code == 302 and count(session, CalendarOverride) == 0
    assert admin.post("/admin/calendar/overrides/2027-03-01/delete").status_code == 404
    assert admin.post("/admin/calendar/overrides/garbage/delete").status_code == 404


# --------------------------------------------------------------------------- CSRF


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_posts_without_the_csrf_token_are_refused(db_url, session, users) -> None:
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": True})
    try:
        client = app.test_client()
        token = TOKEN.search(client.get("/login").text).group(1)
        signed_in = client.post(
            "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        before = count(session, User)
        for url, data in (
            ("/admin/users/new", NEW_USER),
            ("/admin/calendar/years", YEAR_2027),
            (f"/admin/users/{users['viewer'].id}/active", {"active": "0"}),
        ):
            refused = client.post(url, data=data)
            assert refused.status_code == 400 and "安全令牌" in refused.text, url
        assert count(session, User) == before and count(session, CalendarYear) == 0
        assert session.get(User, users["viewer"].id).active

        token = TOKEN.search(client.get("/admin/users/new").text).group(1)
        made = client.post("/admin/users/new", data={**NEW_USER, "csrf_token": token})
        assert made.status_code == 302 and count(session, User) == before + 1
    finally:
        app.extensions["db_engine"].dispose()
