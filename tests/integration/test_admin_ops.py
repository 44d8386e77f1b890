"""Admin operations on a real database: the rules the CLI and the admin pages share."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Agency, CalendarOverride, CalendarYear
from tests.conftest import make_user
from workflow.admin import operations as admin_ops
from workflow.kernel.calendar import WorkdayResult
from workflow.kernel.errors import NotFound, PermissionDenied, ValidationError
from workflow.requests.deadlines import compute_deadlines
from workflow.store.calendar import load_calendar

ARRANGEMENT_2027 = "2027-01-01~2027-01-03\n2027-02-05~2027-02-11"
MAKEUP_2027 = "2027-02-13"


@pytest.fixture
def branch(session, agency) -> dict[str, Agency]:
    """test-agency → dept → unit, and a sibling top-level agency."""
    dept = admin_ops.create_agency(session, "dept", "某局", "test-agency")
    unit = admin_ops.create_agency(session, "unit", "某所", "dept")
    other = admin_ops.create_agency(session, "other", "另一政府")
    session.commit()
    return {"top": agency, "dept": dept, "unit": unit, "other": other}


def refused(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


def test_create_agency_rules(session, agency) -> None:
    err = refused(lambda: admin_ops.create_agency(session, "Bad Code", " ", "nowhere"))
    assert set(err.field_errors) == {"code", "name", "parent"}
    assert "小写字母" in err.field_errors["code"] and "不存在" in err.field_errors["parent"]
    dup = refused(lambda: admin_ops.create_agency(session, "test-agency", "again"))
    assert "已存在" in dup.field_errors["code"]
    made = admin_ops.create_agency(session, "dept", "  某局 ", "test-agency")
    assert made.name == "某局" and made.parent is agency


def test_an_admin_adds_agencies_only_inside_their_branch(session, branch) -> None:
    boss = make_user(session, branch["dept"], "dept-admin", "admin")
    assert {a.code for a in admin_ops.manageable_agencies(boss)} == {"dept", "unit"}
    above = refused(lambda: admin_ops.create_agency(session, "x", "x", "test-agency", by=boss))
    assert "下级机关" in above.field_errors["parent"]
    rootless = refused(lambda: admin_ops.create_agency(session, "x", "x", None, by=boss))
    assert "上级机关" in rootless.field_errors["parent"]
    assert admin_ops.create_agency(session, "x", "某股", "unit", by=boss).parent is branch["unit"]


def test_create_user_reports_every_problem_at_once(session, users) -> None:
    err = refused(
        lambda: admin_ops.create_user(
            session, "ADMIN", "", "nowhere", [], "short", confirmation="other"
        )
    )
    assert "已存在" in err.field_errors["username"]  # case-insensitive
    assert "不存在" in err.field_errors["agency"]
    assert "至少选择一个角色" in err.field_errors["roles"]
    assert "至少12位" in err.field_errors["password"]
    mismatch = refused(
        lambda: admin_ops.create_user(
            session, "clerk", "", "test-agency", ["viewer"], "long-enough-pw", confirmation="x"
        )
    )
    assert set(mismatch.field_errors) == {"confirm"}
    unknown = refused(
        lambda: admin_ops.create_user(
            session, "clerk", "", "test-agency", ["boss"], "long-enough-pw"
        )
    )
    assert "boss" in unknown.field_errors["roles"]


def test_created_user_can_sign_in_with_the_password(session, agency) -> None:
    user = admin_ops.create_user(
        session, "clerk", "张三", "test-agency", ["registrar", "handler"], "long-enough-pw"
    )
    session.commit()
    assert user.check_password("long-enough-pw") and user.roles == {"registrar", "handler"}
    assert user.display_name == "张三" and user.active


def test_scope_of_user_management(session, branch) -> None:
    boss = make_user(session, branch["dept"], "dept-admin", "admin")
    top_clerk = make_user(session, branch["top"], "top-clerk", "registrar")
    unit_clerk = make_user(session, branch["unit"], "unit-clerk", "registrar")
    with pytest.raises(NotFound):
        admin_ops.load_managed_user(session, top_clerk.id, boss)
    assert admin_ops.load_managed_user(session, unit_clerk.id, boss) is unit_clerk
    outside = refused(
        lambda: admin_ops.create_user(
            session, "clerk", "", "test-agency", ["viewer"], "long-enough-pw", by=boss
        )
    )
    assert "不存在" in outside.field_errors["agency"]


def test_an_admin_cannot_lock_themself_out(session, users) -> None:
    me = users["admin"]
    with pytest.raises(ValidationError, match="不能停用自己"):
        admin_ops.set_user_active(session, me, False, by=me)
    err = refused(lambda: admin_ops.set_user_roles(session, me, {"viewer"}, by=me))
    assert "管理员角色" in err.field_errors["roles"]
    admin_ops.set_user_roles(session, me, {"admin", "viewer"}, by=me)
    admin_ops.set_user_active(session, users["viewer"], False, by=me)
    assert me.roles == {"admin", "viewer"} and not users["viewer"].active


def test_reset_password(session, users) -> None:
    clerk = users["registrar"]
    err = refused(lambda: admin_ops.reset_password(session, clerk, "short"))
    assert "至少12位" in err.field_errors["password"]
    admin_ops.reset_password(session, clerk, "brand-new-pw", confirmation="brand-new-pw")
    assert clerk.check_password("brand-new-pw")


def test_entering_2027_settles_and_moves_deadlines(session, users) -> None:
    before = load_calendar(session)
    december = compute_deadlines(date(2026, 12, 10), [], before, date(2026, 12, 10))
    assert december.reply_due == date(2027, 1, 8) and december.provisional
    january = before.add_working_days(date(2027, 1, 15), 20)
    assert january.day == date(2027, 2, 12) and january.provisional

    summary = admin_ops.enter_year_arrangement(
        session, "2027", ARRANGEMENT_2027, MAKEUP_2027, "国办发明电〔2026〕x号", by=users["admin"]
    )
    session.commit()
    assert (summary.holidays, summary.workdays, summary.replaced) == (10, 1, 0)

    after = load_calendar(session)
    december = compute_deadlines(date(2026, 12, 10), [], after, date(2026, 12, 10))
    # New Year 2027 falls on Fri–Sun: the date stands, but it is no longer a guess.
    assert december.reply_due == date(2027, 1, 8) and not december.provisional
    # Spring Festival (Feb 5–11) pushes a January request back; Sat Feb 13 counts.
    january = after.add_working_days(date(2027, 1, 15), 20)
    assert january == WorkdayResult(date(2027, 2, 18), provisional=False)
    assert session.get(CalendarYear, 2027).note == "国办发明电〔2026〕x号"


def test_entering_a_year_again_replaces_its_overrides(session, users) -> None:
    admin_ops.add_calendar_override(session, "2027-03-01", "restday", "地方调整")
    admin_ops.add_calendar_override(session, date(2028, 1, 3), True)
    admin_ops.enter_year_arrangement(session, 2027, ARRANGEMENT_2027, MAKEUP_2027)
    summary = admin_ops.enter_year_arrangement(session, 2027, "2027-01-01", "")
    session.commit()
    assert summary.replaced == 11
    days = {o.day for o in session.scalars(select(CalendarOverride))}
    assert days == {date(2027, 1, 1), date(2028, 1, 3)}
    holidays, workdays, _ = admin_ops.stored_arrangement(session, 2027)
    assert (holidays, workdays) == ("2027-01-01", "")


def test_bad_lines_store_nothing(session, users) -> None:
    with pytest.raises(admin_ops.LineErrors) as info:
        admin_ops.enter_year_arrangement(
            session,
            2027,
            "2027-01-01~2027-01-03\n2026-12-31\n2027-13-01",
            "2027-02-13\n2027-02-10\n2027-01-02",
        )
    messages = info.value.messages
    assert [m[:4] for m in messages["holidays"]] == ["第2行：", "第3行："]
    assert "不在2027年内" in messages["holidays"][0]
    assert "周三" in messages["workdays"][0] and messages["workdays"][0].startswith("第2行")
    assert "已列为放假日期" in messages["workdays"][1]
    session.rollback()
    assert session.scalars(select(CalendarOverride)).first() is None
    assert session.get(CalendarYear, 2027) is None
    empty = refused(lambda: admin_ops.enter_year_arrangement(session, 2027, "", "2027-02-13"))
    assert "请填写放假日期" in empty.field_errors["holidays"]
    assert (
        "year"
        in refused(lambda: admin_ops.enter_year_arrangement(session, "27", "", "")).field_errors
    )


def test_overrides_add_replace_remove(session, users) -> None:
    admin_ops.add_calendar_override(session, "2027-03-01", "restday", "地方调整")
    row = admin_ops.add_calendar_override(session, "2027-03-01", "workday", "更正")
    assert row.is_workday and row.note == "更正"
    assert load_calendar(session).is_workday(date(2027, 3, 1))
    bad = refused(lambda: admin_ops.add_calendar_override(session, "2027-02-30", "workday"))
    assert "day" in bad.field_errors
    assert (
        "kind"
        in refused(lambda: admin_ops.add_calendar_override(session, "2027-03-02", "x")).field_errors
    )
    admin_ops.remove_calendar_override(session, "2027-03-01")
    assert session.get(CalendarOverride, date(2027, 3, 1)) is None
    with pytest.raises(NotFound):
        admin_ops.remove_calendar_override(session, "2027-03-01")


def test_only_a_top_level_admin_edits_the_calendar(session, branch) -> None:
    dept_admin = make_user(session, branch["dept"], "dept-admin", "admin")
    assert not admin_ops.can_edit_calendar(dept_admin)
    with pytest.raises(PermissionDenied):
        admin_ops.add_calendar_override(session, "2027-03-01", "restday", by=dept_admin)
    with pytest.raises(PermissionDenied):
        admin_ops.enter_year_arrangement(session, 2027, "2027-01-01", "", by=dept_admin)


def test_calendar_years_show_each_source(session, users) -> None:
    admin_ops.enter_year_arrangement(session, 2027, "2027-01-01", "", note="通知")
    years = {y.year: y for y in admin_ops.calendar_years(session, date(2026, 11, 20))}
    assert min(years) == 2019 and max(years) == 2027
    assert years[2026].source == "package"
    assert years[2027].source == "announced" and years[2027].overrides == 1
    later = {y.year: y for y in admin_ops.calendar_years(session, date(2027, 6, 1))}
    assert later[2028].source == "provisional"
