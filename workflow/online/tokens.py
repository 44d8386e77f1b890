"""API tokens: made for a user, presented as ``Authorization: Bearer …``, revoked by an admin.

A token acts as its user — same roles, same agency, so every rule of the pages applies
to the API unchanged — and only while both the token and the account are live. Only the
SHA-256 of a token is stored; the token is returned once, to be shown once. Like every
operation these flush and never commit.

Admins list and revoke the tokens of the accounts they manage (their agency and those
below it, docs/domain.md §1), the same scope as managing the accounts themselves.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import ApiToken, User
from workflow.admin import security_log
from workflow.admin.operations import load_managed_user, manageable_agencies
from workflow.kernel.actor import naive_utc
from workflow.kernel.errors import NotFound, ValidationError
from workflow.kernel.payload import clean_text

MAX_LABEL = 100
#: ``last_used_at`` is written at most this often per token: an exact time per call would
#: turn every read of the API into a write.
TOUCH_INTERVAL = timedelta(minutes=5)
#: What a token looks like: ``secrets.token_urlsafe(32)``, 43 URL-safe characters.
TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    #: The token itself: shown once, never stored.
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(
    session: Session, username: str, label: str = "", *, by: User | None = None
) -> IssuedToken:
    """A new token for ``username`` (an active account); ``by`` must manage that account."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise ValidationError("用户不存在或已停用", {"username": f"没有可用的用户“{username}”"})
    load_managed_user(session, user.id, by)
    try:
        clean_label = clean_text(label, MAX_LABEL)
    except ValueError as exc:
        raise ValidationError("请更正标出的内容", {"label": f"说明：{exc}"}) from None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        user=user,
        label=clean_label,
        token_hash=token_hash(token),
        created_by_id=by.id if by else None,
    )
    session.add(row)
    session.flush()
    security_log.record(
        session,
        "token_created",
        actor=by,
        subject=user,
        detail={"token_id": row.id, "label": clean_label},
    )
    return IssuedToken(row, token)


def authenticate(session: Session, token: str, now: datetime) -> User | None:
    """The user ``token`` acts as, or None (unknown, revoked, or the account is inactive)."""
    row = session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.role_rows))
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    moment = naive_utc(now)
    if row.last_used_at is None or moment - row.last_used_at >= TOUCH_INTERVAL:
        row.last_used_at = moment
        session.flush()
    return row.user


def tokens_managed_by(session: Session, by: User) -> list[ApiToken]:
    """Every token of the accounts ``by`` manages, live ones first, newest first."""
    agency_ids = [a.id for a in manageable_agencies(by)]
    return list(
        session.scalars(
            select(ApiToken)
            .join(ApiToken.user)
            .options(joinedload(ApiToken.user))
            .where(User.agency_id.in_(agency_ids))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def revoke_token(session: Session, token_id: int, now: datetime, *, by: User | None) -> ApiToken:
    """Revoke the token for good (revoking it again changes nothing)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("令牌不存在，或不属于您管理的用户")
    try:
        load_managed_user(session, row.user_id, by)
    except NotFound:
        raise NotFound("令牌不存在，或不属于您管理的用户") from None
    if row.revoked_at is None:
        row.revoked_at = naive_utc(now)
        row.revoked_by_id = by.id if by else None
        session.flush()
        security_log.record(
            session, "token_revoked", actor=by, subject=row.user, detail={"token_id": row.id}
        )
    return row
