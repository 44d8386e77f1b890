"""E-mail reminders to handlers N working days before each of their due dates.

Optional: only when an SMTP server is configured (``GONGKAI_SMTP_HOST``, and optionally
``GONGKAI_SMTP_PORT`` (25), ``GONGKAI_SMTP_FROM``) and the handler has an address. One
message per handler listing every deadline of theirs that falls exactly ``days``
working days from today — the reply deadline, and the 补正 / fee / consultation deadline
the other side has — so each due date is announced once, by the daily ``send-reminders``
run. The dates are the stored clocks (workflow.requests.clocks), the same the workbench shows.
"""

from __future__ import annotations

import smtplib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Request, RequestFacts, User
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests.reminders import PAUSE_LABEL_DEFAULT, PAUSE_LABELS


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SmtpSettings | None:
        """The configured server, or None (reminders stay in-app)."""
        host = environ.get("GONGKAI_SMTP_HOST")
        if not host:
            return None
        port = int(environ.get("GONGKAI_SMTP_PORT", "25"))
        return cls(host, port, environ.get("GONGKAI_SMTP_FROM", "gongkai@localhost"))


@dataclass(frozen=True)
class DueItem:
    tracking_no: str
    label: str
    due: date


def due_for_handlers(
    session: Session, today: date, calendar: WorkingCalendar, days: int
) -> dict[User, list[DueItem]]:
    """Each handler with an address → their deadlines due exactly ``days`` wd from today."""
    target = calendar.add_working_days(today, days).day
    f = RequestFacts
    rows = session.execute(
        select(User, Request.tracking_no, f.reply_due, f.pause_due, Request.state)
        .join(Request, Request.handler_id == User.id)
        .join(f, f.request_id == Request.id)
        .where(User.active.is_(True), User.email.is_not(None))
        .where(or_(f.reply_due == target, f.pause_due == target))
        .order_by(User.id, Request.tracking_no)
    )
    found: dict[User, list[DueItem]] = defaultdict(list)
    for user, tracking_no, reply_due, pause_due, state in rows:
        if reply_due == target:
            found[user].append(DueItem(tracking_no, "答复期限", target))
        if pause_due == target:
            label = PAUSE_LABELS.get(state, PAUSE_LABEL_DEFAULT)
            found[user].append(DueItem(tracking_no, label, target))
    return dict(found)


def message_for(user: User, items: list[DueItem], sender: str, days: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(user.email)
    message["Subject"] = f"依申请公开办理提醒：{len(items)}项期限将在{days}个工作日后届满"
    lines = [f"{user.display_name}：", "", f"您承办的以下申请有期限将在{days}个工作日后届满："]
    lines += [f"· {i.tracking_no} {i.label} {i.due.isoformat()}" for i in items]
    lines += ["", "请登录依申请公开办理系统办理。"]
    message.set_content("\n".join(lines))
    return message


def send_reminders(
    session: Session,
    settings: SmtpSettings,
    today: date,
    calendar: WorkingCalendar,
    days: int,
) -> int:
    """Send one message per handler with deadlines ``days`` wd away; returns how many."""
    due = due_for_handlers(session, today, calendar, days)
    if not due:
        return 0
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        for user, items in due.items():
            smtp.send_message(message_for(user, items, settings.sender, days))
    return len(due)
