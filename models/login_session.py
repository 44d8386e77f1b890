"""Signed-in sessions, one row each, so signing out really ends a session.

Flask keeps the session in a signed cookie: without a record on the server, a copied
cookie would stay valid after "退出登录" until the secret key changed. Each login
stores the SHA-256 of a random token here and the token in the cookie; a request whose
token has no row is treated as signed out. Logging out deletes the row, a password
change deletes the account's other rows (a stolen cookie dies with the old password),
and rows older than the configured lifetime are refused and removed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class LoginSession(Base):
    __tablename__ = "login_sessions"

    #: SHA-256 (hex) of the token in the cookie: a database reader learns no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Where and with what the session was opened, so its owner can recognise it.
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
