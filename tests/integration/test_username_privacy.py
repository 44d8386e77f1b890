"""Creating an account or an agency tells a branch's administrator nothing about other
branches (issue 18 item 8; docs/domain.md §21.4).

Usernames and agency codes are unique in the whole installation, so a name another
branch holds must be refused; the refusal is the same page, word for word and status for
status, as for a name the admin's own branch holds and for a reserved name. Nothing on
it names the other branch.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import User
from tests.conftest import make_user
from tests.integration.routes import signed_in
from workflow.admin import operations as admin_ops
from workflow.kernel.errors import ValidationError

PASSWORD = "a-long-unusual-secret-42"


@pytest.fixture
def two_branches(session, agency):
    """The test agency (branch A, with its admin) and a separate top-level branch B."""
    other = admin_ops.create_agency(session, "branch-b", "乙县人民政府")
    session.commit()
    make_user(session, other, "zhangsan", "registrar")
    make_user(session, agency, "lisi", "registrar")
    admin = make_user(session, agency, "admin-a", "admin")
    return {"admin": admin, "other": other}


def _attempt(client, username: str):
    return client.post(
        "/admin/users/new",
        data={
            "username": username,
            "display_name": "",
            "agency": "test-agency",
            "roles": ["registrar"],
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )


def _error(page: str) -> str:
    """The username field's message."""
    found = re.search(r'id="username-error">\s*<p class="field-error">(.*?)</p>', page, re.S)
    assert found, page
    return found.group(1).strip()


def test_a_name_of_another_branch_reads_like_any_unavailable_name(app, session, two_branches):
    client = signed_in(app, session, two_branches["admin"])
    answers = {name: _attempt(client, name) for name in ("zhangsan", "lisi", "root")}
    assert {a.status_code for a in answers.values()} == {400}
    messages = {name: _error(a.text).replace(name, "<name>") for name, a in answers.items()}
    assert len(set(messages.values())) == 1, messages
    assert "不可用" in messages["zhangsan"]
    for answer in answers.values():
        assert "乙县" not in answer.text and "branch-b" not in answer.text
    # Case does not matter, and nothing was created.
    assert (
        _error(_attempt(client, "ZhangSan").text).replace("ZhangSan", "<name>")
        == (messages["zhangsan"])
    )
    assert session.scalar(select(func.count()).select_from(User)) == 3
    # A free name goes through.
    assert _attempt(client, "wangwu").status_code == 302


def test_the_operator_at_the_command_line_is_told_plainly(session, two_branches) -> None:
    with pytest.raises(ValidationError) as info:
        admin_ops.create_user(session, "zhangsan", "", "test-agency", ["registrar"], PASSWORD)
    assert "已存在" in info.value.field_errors["username"]
    # Reserved names are for the operator only (the demo's "admin" account).
    made = admin_ops.create_user(session, "root", "", "test-agency", ["registrar"], PASSWORD)
    assert made.username == "root"


def test_an_agency_code_of_another_branch_reads_like_any_taken_one(
    session, agency, two_branches
) -> None:
    admin = two_branches["admin"]
    admin_ops.create_agency(session, "mine", "某局", "test-agency", by=admin)
    session.commit()
    messages = {}
    for code in ("branch-b", "mine"):
        with pytest.raises(ValidationError) as info:
            admin_ops.create_agency(session, code, "新机关", "test-agency", by=admin)
        messages[code] = info.value.field_errors["code"].replace(code, "<code>")
    assert messages["branch-b"] == messages["mine"] and "不可用" in messages["mine"]
