"""API tokens (JSON API v1): a bearer token acts as its user, stored only as a hash.

The token itself is shown once, when it is made (``python app.py create-token``); the
database keeps its SHA-256, so a copy of the database does not hand out API access. A
token is never deleted: revoking it stamps ``revoked_at`` and who did it, so the row
stays as the record of who could act through the API and until when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    #: Hex SHA-256 of the token (high-entropy random text: no salt or slow hash needed).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: None when made at the command line (the operator has the whole database anyway).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Updated at most every few minutes (``workflow.online.tokens.TOUCH_INTERVAL``).
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
