"""Flask-WTF forms built from the domain's field lists (``PayloadField``).

The transition table already says which fields an action asks for, their labels, kinds,
choices and limits; building the form from it keeps the page and the rule in step. The
forms only *render* and carry raw input: they hold no validators, because validation is
the domain's (``workflow.kernel.payload`` / ``workflow.requests.intake``) and must be the
same for the web, the CLI and the ledger importer. The domain's per-field messages are put back onto
the fields with :func:`apply_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from flask import request
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

import settings
from models import User
from models.user import UserRole
from views.common import DEFAULT_CONFLICT, Refused, perform
from views.database import db
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, Outcome
from workflow.kernel.backdating import REASON_FIELD
from workflow.kernel.lifecycle import PayloadField
from workflow.kernel.payload import MAX_LONGTEXT, MAX_TEXT

T = TypeVar("T")

#: Name of the hidden field carrying the request version the user saw (optimistic lock).
VERSION_FIELD = "expected_version"
EFFECTIVE_DATE = "effective_date"
_PLACEHOLDER = "— 请选择 —"


class LoginForm(FlaskForm):
    """Username and password; the only form validated by WTForms (no domain behind it)."""

    username = StringField(
        "用户名",
        validators=[InputRequired("请填写用户名")],
        render_kw={"autocomplete": "username", "maxlength": 64, "autofocus": True},
    )
    password = PasswordField(
        "密码",
        validators=[InputRequired("请填写密码")],
        render_kw={"autocomplete": "current-password", "maxlength": 256},
    )


class PayloadForm(FlaskForm):
    """Base of the generated forms; remembers which fields the domain will read."""

    payload_names: tuple[str, ...] = ()
    general_errors: list[str]

    def raw(self) -> dict[str, str]:
        """What the user typed, as plain strings, for the domain to parse.

        Read from the submitted form rather than ``field.data``: WTForms would already
        have coerced (or silently dropped) bad dates and numbers, and the domain must see
        exactly what was sent to explain what is wrong with it.
        """
        return {name: request.form.get(name, "") for name in self.payload_names}

    def submitted_version(self) -> int | None:
        """The version the user saw, or None if the hidden field is missing or garbage."""
        value = request.form.get(VERSION_FIELD, "").strip()
        return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


def outcome_option_label(outcome: Outcome) -> str:
    """The option text: row label plus the article relied on (so the basis is chosen too)."""
    basis = "" if outcome.basis in ("", "—") else f"（{outcome.basis}）"
    answer = f"：{outcome.answer}" if outcome.answer else ""
    return f"{outcome.label}{answer}{basis}"


def outcome_choices() -> list[SelectChoice]:
    """Decidable outcomes grouped by report group, as ``<optgroup>``s."""
    choices = [SelectChoice("", _PLACEHOLDER)]
    for outcome in DECIDABLE_OUTCOMES:
        group = outcome.group.label
        # (一) and (二) are groups of one whose label is the option itself: no optgroup.
        optgroup = None if outcome.label == group else group
        choices.append(SelectChoice(outcome.code, outcome_option_label(outcome), {}, optgroup))
    return choices


def approver_choices(agency_id: int) -> list[tuple[str, str]]:
    """Active approvers of the agency as (username, "display name（username）")."""
    rows = db().execute(
        select(User.username, User.display_name)
        .join(UserRole)
        .where(User.agency_id == agency_id, User.active.is_(True), UserRole.role == "approver")
        .order_by(User.display_name, User.username)
    )
    return [(name, f"{display}（{name}）" if display != name else name) for name, display in rows]


def _select_choices(pairs: Iterable[tuple[str, str]], *, placeholder: bool) -> list[SelectChoice]:
    head = [SelectChoice("", _PLACEHOLDER)] if placeholder else []
    return head + [SelectChoice(value, label) for value, label in pairs]


def _field_for(spec: PayloadField, approvers: Sequence[tuple[str, str]]) -> Field:
    """One WTForms field for one payload field; HTML attributes mirror the domain limits."""
    kwargs: dict[str, Any] = {"description": spec.help, "default": spec.default}
    if spec.kind == "date":
        return DateField(spec.label, **kwargs)
    if spec.kind == "int":
        attrs = {"min": spec.minimum, "max": spec.maximum, "step": 1}
        return IntegerField(
            spec.label, render_kw={k: v for k, v in attrs.items() if v is not None}, **kwargs
        )
    if spec.kind == "choice":
        placeholder = not spec.required or spec.default is None
        choices = _select_choices(spec.choices, placeholder=placeholder)
        return SelectField(spec.label, choices=choices, validate_choice=False, **kwargs)
    if spec.kind == "outcome":
        return SelectField(spec.label, choices=outcome_choices(), validate_choice=False, **kwargs)
    if spec.kind == "approver":
        choices = _select_choices(approvers, placeholder=True)
        return SelectField(spec.label, choices=choices, validate_choice=False, **kwargs)
    if spec.kind == "longtext":
        return TextAreaField(spec.label, render_kw={"maxlength": MAX_LONGTEXT, "rows": 4}, **kwargs)
    return StringField(spec.label, render_kw={"maxlength": MAX_TEXT}, **kwargs)


def build_form(
    fields: Sequence[PayloadField],
    *,
    date_label: str | None = None,
    approvers: Sequence[tuple[str, str]] = (),
    descriptions: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    backdate_reason: bool | None = None,
) -> PayloadForm:
    """Instantiate a form for ``fields`` (bound to the current request's POST data).

    ``date_label`` adds the action's effective date (法律日期) first; ``data`` gives
    defaults for a fresh form (today, the request version); ``descriptions`` overrides
    the help text of individual fields (e.g. the channels' receipt rules).
    ``backdate_reason`` adds the optional 补录原因 (``workflow.kernel.backdating``); by
    default every form with an effective date has it.
    """
    attrs: dict[str, Any] = {}
    names: list[str] = []
    if date_label is not None:
        attrs[EFFECTIVE_DATE] = DateField(
            date_label, description="法律意义上的日期，不能晚于今天，也不能早于收到申请日期"
        )
        attrs[VERSION_FIELD] = HiddenField()
        names.append(EFFECTIVE_DATE)
    for spec in fields:
        if hasattr(PayloadForm, spec.name):  # a field named "data" or "raw" would break the form
            raise ValueError(f"payload field name {spec.name!r} collides with the form class")
        attrs[spec.name] = _field_for(spec, approvers)
        names.append(spec.name)
    if backdate_reason if backdate_reason is not None else date_label is not None:
        attrs[REASON_FIELD] = StringField(
            "补录原因",
            description=f"日期早于今天{settings.backdate_days()}天以上时必填（如：纸质来信延迟登记）",
            render_kw={"maxlength": MAX_TEXT},
        )
        names.append(REASON_FIELD)
    attrs["payload_names"] = tuple(names)
    form_class = type("GeneratedPayloadForm", (PayloadForm,), attrs)
    form: PayloadForm = form_class(data=dict(data or {}))
    form.general_errors = []
    required = {s.name for s in fields if s.required}
    if date_label is not None:
        required.add(EFFECTIVE_DATE)
    for name, description in (descriptions or {}).items():
        form[name].description = description
    for name in required:
        form[name].flags.required = True
    return form


def apply_errors(
    form: PayloadForm, field_errors: Mapping[str, str], general: Iterable[str] = ()
) -> None:
    """Show the domain's messages: per field inline, the rest in the box at the top."""
    form.general_errors = [m for m in general if m]
    for name, message in field_errors.items():
        if name in form.payload_names:
            form[name].errors = [message]
        else:
            form.general_errors.append(message)


def action_defaults(today: date, version: int) -> dict[str, Any]:
    """Defaults of a fresh action form: today's date and the version the user is looking at.

    The version goes into the page so that a decision taken on a stale screen is refused
    (409) instead of silently overwriting what a colleague recorded in the meantime.
    """
    return {EFFECTIVE_DATE: today, VERSION_FIELD: str(version)}


def show_refusal(form: PayloadForm, refused: Refused) -> None:
    """Put a refusal on the form: per field inline (several lines where given), the rest on top."""
    if not refused.lines:
        apply_errors(form, refused.field_errors, refused.messages)
        return
    apply_errors(form, {}, refused.messages)
    for name, lines in refused.lines.items():
        if name in form.payload_names:
            form[name].errors = list(lines)
        else:
            form.general_errors.extend(lines)


def submit_form(
    form: PayloadForm, operation: Callable[[], T], *, conflict: str = DEFAULT_CONFLICT
) -> tuple[T | None, int]:
    """:func:`~views.common.perform` a form's one operation; a refusal goes onto the form.

    Returns ``(result, 200)``, or ``(None, status)`` with the messages on the form.
    """
    result = perform(operation, conflict=conflict)
    if isinstance(result, Refused):
        show_refusal(form, result)
        return None, result.status
    return result, 200


def submit_action(
    form: PayloadForm, row: Any, operation: Callable[[int], T], *, conflict: str
) -> tuple[T | None, int]:
    """:func:`submit_form` for an action on an existing ``row`` (request or case).

    ``operation`` gets the version the user saw (the hidden field), so a decision taken
    on a stale screen is refused (409). The form then carries the row's current version:
    the page shows the current state, so a deliberate resubmit may proceed.
    """
    version = form.submitted_version()
    if version is None:
        apply_errors(form, {}, ["表单缺少版本信息，请刷新页面后重新操作"])
        return None, 400
    result, status = submit_form(form, lambda: operation(version), conflict=conflict)
    if status == 409:
        form[VERSION_FIELD].data = str(row.version)
    return result, status
