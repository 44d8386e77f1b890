"""Staff accounts: one agency each, several roles, passwords only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.agency import Agency
from models.base import Base, in_list, utcnow
from workflow.catalog.roles import ROLE_CODES


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: Where deadline reminders go (workflow.requests.reminder_mail); None = in-app only.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when an admin chose the password: the owner must replace it at the next login
    #: (the admin knows it, so it proves nothing about who signs in).
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Base32 TOTP secret once two-factor sign-in is set up (``workflow.admin.accounts``).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The time step of the last code accepted (a code is good for one sign-in only).
    totp_last_step: Mapped[int | None]

    agency: Mapped[Agency] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles: set[str] | frozenset[str]) -> None:
        self.role_rows = [UserRole(role=r) for r in sorted(roles)]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login protocol, kept here so the login manager needs no adapter class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(in_list("role", ROLE_CODES), name="role_known"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class RecoveryCode(Base):
    """One two-factor recovery code (恢复码) of an account, stored as its SHA-256 only.

    Shown once when made (``workflow.admin.two_factor.new_recovery_codes``); each may
    replace the TOTP code at one sign-in and is then marked used. Making a new set or
    switching TOTP off deletes the old ones (the security log keeps that it happened).
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
