"""Agencies renamed, given a report level and deactivated (issue 15 item 10): each change
recorded with who, when and why; a deactivated agency takes no new requests or accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Agency, AgencyChange
from tests.conftest import NOW, make_user
from tests.integration.test_admin_pages import as_user
from tests.integration.world import intake
from workflow.admin import agencies as agency_ops
from workflow.admin import operations as admin_ops
from workflow.kernel.actor import Actor
from workflow.kernel.errors import NotFound, PermissionDenied, ValidationError
from workflow.requests import operations as ops


@pytest.fixture
def dept(session, agency) -> Agency:
    row = Agency(code="dept", name="某局", parent=agency)
    session.add(row)
    session.commit()
    return row


def test_rename_and_level_are_recorded(app, session, users, dept) -> None:
    admin = as_user(app, "admin")
    page = admin.get(f"/admin/agencies/{dept.id}")
    assert page.status_code == 200 and "乡镇人民政府" in page.text
    refused = admin.post(f"/admin/agencies/{dept.id}", data={"name": "某某局", "active": "1"})
    assert refused.status_code == 400 and "更名须说明原因" in refused.text
    done = admin.post(
        f"/admin/agencies/{dept.id}",
        data={"name": "某某局", "report_level": "township", "active": "1", "reason": "机构改革"},
    )
    assert done.status_code == 302
    session.refresh(dept)
    assert (dept.name, dept.report_level) == ("某某局", "township")
    changes = session.scalars(select(AgencyChange).order_by(AgencyChange.id)).all()
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("name", "某局", "某某局"),
        ("report_level", "", "township"),
    ]
    assert all(c.changed_by_id == users["admin"].id and c.reason == "机构改革" for c in changes)
    history = admin.get(f"/admin/agencies/{dept.id}").text
    assert "某局" in history and "机构改革" in history
    assert "乡镇人民政府" in admin.get("/admin/agencies").text


def test_deactivation_waits_for_open_requests_and_stops_new_work(app, session, users, dept) -> None:
    clerk = make_user(session, dept, "dept-clerk", "registrar")
    req = ops.register(session, Actor.of(clerk), NOW, intake(), agency=dept)
    session.commit()
    admin = as_user(app, "admin")
    refused = admin.post(f"/admin/agencies/{dept.id}", data={"name": "某局", "active": "0"})
    assert refused.status_code == 400 and "尚有 1 件未办结的申请" in refused.text
    ops.fire(
        session,
        req,
        "void",
        Actor.of(make_user(session, dept, "dept-admin", "admin")),
        NOW,
        {"effective_date": "2026-11-02", "reason": "登记错误"},
    )
    session.commit()
    done = admin.post(f"/admin/agencies/{dept.id}", data={"name": "某局", "active": "0"})
    assert done.status_code == 302
    session.refresh(dept)
    assert dept.active is False
    with pytest.raises(ValidationError, match="已停用"):
        ops.register(session, Actor.of(clerk), NOW, intake(), agency=dept)
    session.rollback()
    with pytest.raises(ValidationError) as refused_user:
        admin_ops.create_user(
            session, "new-one", "新用户", "dept", ["viewer"], "a-long-password-1", by=users["admin"]
        )
    assert "已停用" in refused_user.value.field_errors["agency"]
    session.rollback()
    # The admin's own agency cannot be switched off from under them.
    own = admin.post(
        f"/admin/agencies/{users['admin'].agency_id}", data={"name": "测试机关", "active": "0"}
    )
    assert own.status_code == 400 and "不能停用自己所在的机关" in own.text


def test_decision_signoff_is_set_on_the_agency_page_and_recorded(app, session, users, dept):
    """审核签发 per agency (docs/domain.md §15) from the admin page: the same operation as
    ``set-decision-signoff``, recorded with before/after; a form without the field keeps it."""
    admin = as_user(app, "admin")
    page = admin.get(f"/admin/agencies/{dept.id}")
    assert "答复签发" in page.text and "须经审核人签发后才能出具答复书" in page.text
    on = {"name": dept.name, "active": "1", "decision_signoff": "1", "reason": "局务会决定"}
    assert admin.post(f"/admin/agencies/{dept.id}", data=on).status_code == 302
    session.refresh(dept)
    assert dept.decision_signoff is True
    change = session.scalars(select(AgencyChange)).one()
    assert (change.field, change.before, change.after) == (
        "decision_signoff",
        "不须签发",
        "须经审核人签发",
    )
    assert change.changed_by_id == users["admin"].id and change.reason == "局务会决定"
    assert "答复签发" in admin.get(f"/admin/agencies/{dept.id}").text
    # A post without the field (an older form) leaves the setting as it is.
    admin.post(f"/admin/agencies/{dept.id}", data={"name": dept.name, "active": "1"})
    session.refresh(dept)
    assert dept.decision_signoff is True
    bad = admin.post(f"/admin/agencies/{dept.id}", data={**on, "decision_signoff": "yes"})
    assert bad.status_code == 400 and "请选择答复是否须经签发" in bad.text


def test_decision_signoff_page_refuses_other_roles_and_other_branches(
    app, session, users, agency, dept
) -> None:
    """Only an administrator of the agency's branch switches the setting."""
    other = Agency(code="elsewhere", name="别处")
    session.add(other)
    session.commit()
    handler = as_user(app, "handler")
    data = {"name": dept.name, "active": "1", "decision_signoff": "1"}
    assert handler.post(f"/admin/agencies/{dept.id}", data=data).status_code == 403
    admin = as_user(app, "admin")
    assert admin.post(f"/admin/agencies/{other.id}", data=data).status_code == 404
    session.refresh(dept)
    session.refresh(other)
    assert dept.decision_signoff is False and other.decision_signoff is False
    with pytest.raises(PermissionDenied):
        agency_ops.set_decision_signoff(session, dept, True, by=users["handler"], now=NOW)
    with pytest.raises(NotFound):
        agency_ops.set_decision_signoff(session, other, True, by=users["admin"], now=NOW)
