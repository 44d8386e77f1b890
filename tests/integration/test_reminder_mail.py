"""E-mail reminders through a real SMTP server (aiosmtpd) that the test starts on a free
local port: the handler gets one message listing what falls due in N working days."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import date

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import NOW
from workflow.kernel.actor import Actor
from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.requests import operations as ops
from workflow.requests.reminder_mail import SmtpSettings, send_reminders


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SmtpSettings("127.0.0.1", port, "gongkai@test.local")
    finally:
        controller.stop()


def test_handler_is_mailed_three_working_days_before_the_reply_deadline(
    session, agency, users, smtp
) -> None:
    inbox, settings = smtp
    handler = users["handler"]
    handler.email = "chengban@test.local"
    intake = {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": "某地块征收补偿方案",
        "channel": "in_person",
        "submitted_on": "2026-10-26",  # reply due 2026-11-23
    }
    req = ops.register(session, Actor.of(handler), NOW, intake, agency=agency)
    session.commit()
    assert req.handler_id == handler.id
    today = date(2026, 11, 18)  # Wed: 11-19, 20, 23 → 3 working days
    assert send_reminders(session, settings, today, DEFAULT_CALENDAR, 3) == 1
    [message] = inbox.messages
    assert message["To"] == "chengban@test.local"
    assert "3个工作日后届满" in message["Subject"]
    body = message.get_content()
    assert f"{req.tracking_no} 答复期限 2026-11-23" in body
    # The day before or after, nothing is due exactly three working days ahead.
    assert send_reminders(session, settings, date(2026, 11, 19), DEFAULT_CALENDAR, 3) == 0
    assert len(inbox.messages) == 1


def test_no_address_no_mail(session, agency, users, smtp) -> None:
    inbox, settings = smtp
    assert send_reminders(session, settings, date(2026, 11, 18), DEFAULT_CALENDAR, 3) == 0
    assert inbox.messages == []
