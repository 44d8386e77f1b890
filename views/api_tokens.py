"""The admin page of API tokens: who may act through the API, since when, and revoking.

Tokens are made at the command line (``python app.py create-token``), where the token
can be shown once to the operator; this page lists the tokens of the accounts the admin
manages and revokes them (CSRF-protected POST, admins only, like every admin page).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from views.access import MAX_ID, require_roles
from views.common import local_time, perform_and_flash, signed_in_user, utc_now
from views.database import db
from workflow.online.tokens import revoke_token, tokens_managed_by

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/tokens")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    """Every page here needs a signed-in admin (GET and POST alike)."""


@bp.get("")
def tokens() -> str:
    return render_template(
        "admin/tokens.html", tokens=tokens_managed_by(db(), signed_in_user()), local_time=local_time
    )


@bp.post(f"/<int(max={MAX_ID}):token_id>/revoke")
def revoke(token_id: int) -> Response:
    me = signed_in_user()

    def operation() -> str:
        row = revoke_token(db(), token_id, utc_now(), by=me)
        return f"已撤销 {row.user.username} 的令牌“{row.label or row.id}”"

    perform_and_flash(operation)
    return redirect(url_for(".tokens"), 303)
