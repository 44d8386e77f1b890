"""The admin page of API tokens: an admin sees their branch's tokens and revokes them."""

from __future__ import annotations

from models import Agency, ApiToken
from tests.conftest import NOW, make_user
from tests.integration.routes import signed_in
from workflow.online.tokens import authenticate, create_token


def test_an_admin_lists_and_revokes_the_tokens_of_their_branch(app, session, agency, users):
    mine = create_token(session, "handler", "12345热线对接")
    other_agency = Agency(code="elsewhere", name="别处机关")
    session.add(other_agency)
    session.commit()
    make_user(session, other_agency, "stranger", "registrar")
    theirs = create_token(session, "stranger", "别处的脚本")
    session.commit()
    client = signed_in(app, session, users["admin"])
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "12345热线对接" in page and "handler" in page and "从未使用" in page
    assert "别处的脚本" not in page
    assert client.post(f"/admin/tokens/{theirs.row.id}/revoke").status_code == 404
    done = client.post(f"/admin/tokens/{mine.row.id}/revoke", follow_redirects=True)
    assert "已撤销 handler 的令牌“12345热线对接”" in done.get_data(as_text=True)
    session.expire_all()
    row = session.get(ApiToken, mine.row.id)
    assert row.revoked_at is not None and row.revoked_by_id == users["admin"].id
    assert authenticate(session, mine.token, NOW) is None
    assert authenticate(session, theirs.token, NOW).username == "stranger"
