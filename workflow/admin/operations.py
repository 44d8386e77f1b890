"""Administration use cases: agencies, accounts and the working-day calendar.

The command line (``create-agency``, ``create-user``) and the admin pages both call these
functions, so a rule such as "passwords have at least 8 characters" or "an agency code is
lowercase" is written once and cannot differ between the two doors. Like every operation
they flush and never commit, and refuse with Chinese messages a clerk can act on.

``by`` is the signed-in admin a page acts for; ``None`` means the operator at the command
line, who has the whole database anyway. With ``by`` given, the rules of docs/domain.md §1 apply:
an admin manages their own agency and the agencies below it, never a superior or a
sibling, and cannot lock themself out (deactivate their own account or drop their own
admin role), since nobody else in their branch might be able to undo that.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models import Agency, CalendarOverride, CalendarYear, LoginSession, RecoveryCode, User
from models.base import utcnow
from settings import production_mode
from workflow.admin import passwords, security_log, two_factor
from workflow.admin.passwords import password_problem
from workflow.catalog.roles import ROLE_BY_CODE, ROLE_CODES
from workflow.challenges.due_dates import refresh_case_deadlines
from workflow.kernel.actor import naive_utc
from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.kernel.errors import (
    DomainError,
    LineErrors,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from workflow.kernel.payload import clean_text, parse_date
from workflow.requests.clocks import refresh_open_clocks, refresh_reply_days
from workflow.store.calendar import load_calendar

AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
#: The password rules live in ``workflow.admin.passwords``; the forms read them here.
MIN_PASSWORD = passwords.MIN_PASSWORD
MAX_PASSWORD = passwords.MAX_PASSWORD
#: Roles that act on cases (sign replies, record challenges) or review the administrator:
#: an administrator may not give them to themself (三权分立, docs/domain.md §13).
SELF_GRANT_FORBIDDEN = frozenset({"approver", "legal", "security_auditor"})
#: Held together these would let one person change accounts and review those changes.
EXCLUSIVE_ROLES = frozenset({"admin", "security_auditor"})
MAX_AGENCY_NAME = 200
MAX_DISPLAY_NAME = 100
MAX_OVERRIDE_NOTE = 100
MAX_YEAR_NOTE = 200
#: The Regulation's 2019 revision is where the system's years begin; the upper bound only
#: catches typos such as 20277.
FIRST_YEAR = 2019
LAST_YEAR = 2100
#: No holiday period or make-up stretch in a State Council notice is anywhere near this
#: long; a longer range is almost certainly a typo (a wrong month) and is refused.
MAX_RANGE_DAYS = 31
#: Bound on what a textarea may hold (a year's notice is about 40 lines).
MAX_ARRANGEMENT_TEXT = 5000

#: Values of the "day kind" choice on the override form, mapped to ``is_workday``.
DAY_KINDS: dict[str, tuple[bool, str]] = {
    "restday": (False, "休息日（放假）"),
    "workday": (True, "工作日（上班）"),
}
_RANGE_SEPARATOR = re.compile(r"\s*(?:~|～|至|到)\s*")
#: Chinese weekday names, Monday first (``date.weekday()`` order).
WEEKDAYS = "一二三四五六日"
FIX_FIELDS = "请更正标出的内容"


# --------------------------------------------------------------------------- scope


def manageable_agencies(by: User) -> list[Agency]:
    """The agencies ``by`` administers: their own and every one below it (docs/domain.md §1)."""
    return by.agency.descendants()


def _in_scope(agency: Agency, by: User | None) -> bool:
    return by is None or agency.id in {a.id for a in manageable_agencies(by)}


def load_managed_user(session: Session, user_id: int, by: User | None) -> User:
    """The account with ``user_id`` if ``by`` may manage it; 404 otherwise.

    Accounts outside the admin's branch answer exactly like missing ones, so a
    department admin cannot probe which accounts the county government has.
    """
    user = session.get(User, user_id)
    if user is None or not _in_scope(user.agency, by):
        raise NotFound("用户不存在，或不属于您管理的机关")
    return user


def _agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(FIX_FIELDS, errors)


# --------------------------------------------------------------------------- agencies


def validate_agency_code(code: str) -> str:
    """The code if well-formed: it appears in URLs, file names and the statistics JSON."""
    if not AGENCY_CODE.match(code):
        raise ValidationError(FIX_FIELDS, {"code": "机关代码只能包含小写字母、数字和连字符"})
    return code


def validate_agency_name(name: str) -> str:
    """The name, normalised (NFC, trimmed), if not empty and not too long."""
    try:
        clean = clean_text(name, MAX_AGENCY_NAME)
    except ValueError:
        clean = ""
    if not clean:
        raise ValidationError(FIX_FIELDS, {"name": f"机关名称不能为空且不超过{MAX_AGENCY_NAME}字"})
    return clean


def create_agency(
    session: Session,
    code: str,
    name: str,
    parent_code: str | None = None,
    *,
    by: User | None = None,
    reconsideration_body: str | None = None,
    court: str | None = None,
) -> Agency:
    """Add an agency under ``parent_code`` (a top-level one only from the command line).

    An admin must hang the new agency inside their own branch: an agency they created
    outside it would be one they could no longer manage. The 复议机关 and court may be
    given at once (else set later with :func:`set_agency_remedies`: no reply before).
    """
    errors: dict[str, str] = {}
    bodies = _remedy_body_values(
        {"reconsideration_body": reconsideration_body or "", "court": court or ""},
        errors,
        required=False,
    )
    code = code.strip()
    clean_name = ""
    try:
        validate_agency_code(code)
    except ValidationError as err:
        errors.update(err.field_errors)
    else:
        if _agency_by_code(session, code) is not None:
            # An administrator sees only their branch: the code may be another branch's.
            errors["code"] = (
                unavailable("机关代码", code) if by is not None else f"机关代码“{code}”已存在"
            )
    try:
        clean_name = validate_agency_name(name)
    except ValidationError as err:
        errors.update(err.field_errors)
    parent: Agency | None = None
    if parent_code:
        parent = _agency_by_code(session, parent_code)
        if parent is None:
            errors["parent"] = f"上级机关“{parent_code}”不存在"
        elif not _in_scope(parent, by):
            errors["parent"] = "只能在本机关或下级机关之下新增机关"
    elif by is not None:
        errors["parent"] = "请选择上级机关"
    _refuse(errors)
    agency = Agency(code=code, name=clean_name, parent=parent)
    session.add(agency)
    if bodies:
        _apply_remedy_bodies(agency, bodies, by, utcnow())
    session.flush()
    security_log.record(
        session,
        "agency_created",
        actor=by,
        agency_id=agency.id,
        detail={"after": {"code": code, "name": clean_name, "parent": parent_code or ""}},
    )
    return agency


# ----------------------------------------------------------- 复议机关 and court of an agency

#: What an agency is, for proposing its 复议机关 (行政复议法 Art. 24, 27). The first two
#: are ``Agency.report_level``'s values (条例 Art. 49 uses the same distinction).
AGENCY_KINDS: dict[str, str] = {
    "department": "政府工作部门",
    "government": "人民政府",
    "vertical": "垂直管理部门（海关、金融、外汇、税务、国家安全等）",
}
REMEDY_FIELDS: dict[str, str] = {"reconsideration_body": "行政复议机关", "court": "管辖法院"}
#: Who changed the settings from the command line (no signed-in user there).
COMMAND_LINE = "（命令行）"


@dataclass(frozen=True)
class RemedyProposal:
    """A suggestion the admin confirms or corrects; the reply uses only what is saved."""

    reconsideration_body: str
    reason: str
    court_hint: str = (
        "一般为本机关所在地的基层人民法院；以县级以上地方人民政府为被告的，为中级人民法院"
        "（《行政诉讼法》第十四条、第十五条、第十八条；另有集中管辖规定的从其规定）"
    )


def propose_remedy_bodies(agency: Agency, kind: str | None = None) -> RemedyProposal:
    """The 复议机关 the 2023 law gives an agency of ``kind`` (default: its report level).

    行政复议法 Art. 24: a department's is the 本级人民政府, a local government's the
    上一级人民政府; Art. 27: vertical systems go to the 上一级主管部门. The parent in the
    agency tree is named when it is the organ meant; otherwise the proposal says what to
    look for, and the admin types the name.
    """
    kind = kind or agency.report_level or ""
    parent = agency.parent.name if agency.parent else None
    if kind == "government":
        return RemedyProposal(
            parent or "上一级人民政府",
            "人民政府的行政复议机关为上一级人民政府（《行政复议法》第二十四条第一款）",
        )
    if kind == "vertical":
        return RemedyProposal(
            parent or "上一级主管部门",
            "实行垂直领导的行政机关、税务和国家安全机关的行政复议机关为上一级主管部门"
            "（《行政复议法》第二十七条）",
        )
    return RemedyProposal(
        parent or "本级人民政府",
        "政府工作部门的行政复议机关为本级人民政府（《行政复议法》第二十四条第一款）；"
        "开发区等派出机构的所属部门以当地规定为准",
    )


def _remedy_body_values(
    raw: dict[str, str], errors: dict[str, str], *, required: bool
) -> dict[str, str]:
    """The cleaned names typed for the 复议机关 and the court (errors per field)."""
    values: dict[str, str] = {}
    for field, label in REMEDY_FIELDS.items():
        try:
            clean = clean_text(raw.get(field) or "", MAX_AGENCY_NAME)
        except ValueError as exc:
            errors[field] = f"{label}{exc}"
            continue
        if clean:
            values[field] = clean
        elif required:
            errors[field] = f"请填写{label}的全称（答复书须载明，否则不能出具）"
    return values


def _apply_remedy_bodies(
    agency: Agency, values: dict[str, str], by: User | None, now: datetime
) -> None:
    agency.reconsideration_body = values.get("reconsideration_body", agency.reconsideration_body)
    agency.court = values.get("court", agency.court)
    agency.remedies_updated_at = now
    agency.remedies_updated_by = by.username if by is not None else COMMAND_LINE


def set_agency_remedies(
    session: Session,
    code: str,
    raw: dict[str, str],
    *,
    by: User | None = None,
    now: datetime | None = None,
    partial: bool = False,
) -> Agency:
    """Save the 复议机关 and the court that the agency's replies name.

    Both are required on the page (``partial=False``); the command may change one. Who
    changed them and when is kept on the agency; replies already issued keep the names
    they printed (the stored PDF is the notice).
    """
    agency = _agency_by_code(session, code.strip())
    if agency is None or not _in_scope(agency, by):
        raise NotFound(f"机关“{code}”不存在，或不属于您管理的机关")
    errors: dict[str, str] = {}
    values = _remedy_body_values(raw, errors, required=not partial)
    if partial and not values and not errors:
        errors["reconsideration_body"] = "请至少填写行政复议机关或管辖法院之一"
    _refuse(errors)
    _apply_remedy_bodies(agency, values, by, now or utcnow())
    session.flush()
    return agency


# --------------------------------------------------------------------------- accounts


#: Names an administrator cannot give an account: they read as the system or its operator
#: in the event log. The command line (the operator, who sees every branch) may use them.
RESERVED_USERNAMES: frozenset[str] = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "system",
        "sys",
        "gongkai",
        "api",
        "portal",
        "public",
        "security",
        "auditor",
        "operator",
        "superuser",
        "xitong",
        "guanliyuan",
    }
)


def unavailable(what: str, value: str) -> str:
    """The one refusal for a name an administrator may not have (docs/domain.md §21.4).

    Taken in the admin's own branch, taken in another branch, or reserved: the same words
    and the same single lookup, so that creating accounts or agencies tells a branch's
    administrator nothing about the names other branches use (issue 18 item 8).
    """
    return f"{what}“{value}”不可用（已被占用或为系统保留），请换一个"


def validate_username(username: str) -> str:
    """The username if well-formed (checked before the CLI prompts for a password)."""
    if not USERNAME.match(username):
        raise ValidationError(
            FIX_FIELDS, {"username": "用户名为2–64位字母、数字、下划线、点或连字符"}
        )
    return username


def _password_errors(password: str, confirmation: str | None, username: str = "") -> dict[str, str]:
    """The rules of ``workflow.admin.passwords``, and the second entry when asked for."""
    from workflow.admin.demo import DEMO_PASSWORD  # the demo module imports this one

    forbidden = DEMO_PASSWORD if production_mode() else ""
    problem = password_problem(password, username, forbidden=forbidden)
    if problem:
        return {"password": problem}
    if confirmation is not None and confirmation != password:
        return {"confirm": "两次输入的密码不一致"}
    return {}


def _role_errors(
    roles: Collection[str], user: User | None = None, by: User | None = None
) -> dict[str, str]:
    """Known roles, at least one, and separation of duties (三权分立)."""
    unknown = sorted(set(roles) - set(ROLE_CODES))
    if unknown:
        return {"roles": "未知角色：" + "、".join(unknown)}
    if not roles:
        return {"roles": "请至少选择一个角色"}
    if set(roles) >= EXCLUSIVE_ROLES:
        return {"roles": "安全审计员不能兼任管理员（系统管理与安全审计须分由不同人员担任）"}
    if user is not None and _is_self(user, by):
        gained = (set(roles) - user.roles) & SELF_GRANT_FORBIDDEN
        if gained:
            names = "、".join(role_labels(gained))
            return {"roles": f"不能给自己授予{names}角色，请由其他管理员操作"}
    return {}


def confirm_admin_password(by: User, password: str) -> None:
    """A sensitive change (another's password, roles) needs the admin's password again
    (ASVS V3.7.1): a session left open or stolen is not enough."""
    if not by.check_password(password):
        raise ValidationError(FIX_FIELDS, {"admin_password": "您的登录密码不正确"})


def end_all_sessions(session: Session, user: User) -> int:
    """Delete every server-side session of the account (deactivation, reset by admin)."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def create_user(
    session: Session,
    username: str,
    display_name: str | None,
    agency_code: str,
    roles: Collection[str],
    password: str,
    *,
    confirmation: str | None = None,
    by: User | None = None,
) -> User:
    """Open an account in ``agency_code`` with ``roles``; every problem is reported at once.

    Usernames are compared case-insensitively: "Zhang" beside "zhang" would let one
    account pass for another in the event log. They are unique in the whole installation
    (the login form asks for nothing else), so an administrator (``by``) is refused a
    taken name with :func:`unavailable`, whichever branch has it.
    """
    username = username.strip()
    errors: dict[str, str] = {}
    try:
        validate_username(username)
    except ValidationError as err:
        errors.update(err.field_errors)
    else:
        taken = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
        if by is None and taken is not None:
            errors["username"] = f"用户名“{username}”已存在"  # the operator sees every branch
        elif by is not None and (taken is not None or username.lower() in RESERVED_USERNAMES):
            errors["username"] = unavailable("用户名", username)
    try:
        name = clean_text(display_name or "", MAX_DISPLAY_NAME) or username
    except ValueError as exc:
        errors["display_name"] = str(exc)
        name = username
    agency = _agency_by_code(session, agency_code) if agency_code else None
    if agency is None or not _in_scope(agency, by):
        # Outside the admin's branch reads as "does not exist": no probing of codes.
        errors["agency"] = f"机关“{agency_code}”不存在" if agency_code else "请选择所属机关"
    elif not agency.active:
        errors["agency"] = f"机关“{agency.name}”已停用，不能开设新账号"
    errors.update(_role_errors(roles))
    errors.update(_password_errors(password, confirmation, username))
    _refuse(errors)
    assert agency is not None  # _refuse raised otherwise
    user = User(username=username, display_name=name, agency=agency)
    user.set_password(password)
    user.set_roles(set(roles))
    # The admin chose (and knows) the password: its owner replaces it at first login.
    user.must_change_password = by is not None
    session.add(user)
    session.flush()
    security_log.record(
        session,
        "user_created",
        actor=by,
        subject=user,
        detail={"after": {"username": username, "agency": agency.code, "roles": sorted(roles)}},
    )
    return user


def _is_self(user: User, by: User | None) -> bool:
    return by is not None and by.id == user.id


def set_user_roles(
    session: Session, user: User, roles: Collection[str], *, by: User | None = None
) -> User:
    """Replace the account's roles; an admin cannot drop their own admin role, nor give
    themself a role of :data:`SELF_GRANT_FORBIDDEN`."""
    errors = _role_errors(roles, user, by)
    if not errors and _is_self(user, by) and "admin" in user.roles and "admin" not in roles:
        errors["roles"] = "不能取消自己的管理员角色，请由其他管理员操作"
    _refuse(errors)
    before = sorted(user.roles)
    user.set_roles(set(roles))
    session.flush()
    security_log.record(
        session,
        "roles_changed",
        actor=by,
        subject=user,
        detail={"before": before, "after": sorted(set(roles))},
    )
    return user


def set_user_active(session: Session, user: User, active: bool, *, by: User | None = None) -> User:
    """Enable or disable sign-in; a disabled account keeps its history (events name it).

    Disabling ends every session of the account at once, so that reactivating it later
    cannot revive a cookie copied before (the security review's V12).
    """
    if not active and _is_self(user, by):
        raise ValidationError("不能停用自己的账号，请由其他管理员操作")
    before = user.active
    user.active = active
    ended = 0 if active else end_all_sessions(session, user)
    session.flush()
    security_log.record(
        session,
        "activated" if active else "deactivated",
        actor=by,
        subject=user,
        detail={"before": before, "after": active, "sessions_ended": ended},
    )
    return user


def reset_password(
    session: Session,
    user: User,
    password: str,
    *,
    confirmation: str | None = None,
    by: User | None = None,
) -> User:
    """Set a new password: one's own (``by`` is the user) or, chosen by an admin or the
    operator, another's, which its owner must then change at the next login (the admin
    knows it). Only the scrypt hash is stored; the log records who, never the password.
    """
    _refuse(_password_errors(password, confirmation, user.username))
    user.set_password(password)
    own = _is_self(user, by)
    user.must_change_password = not own
    session.flush()
    security_log.record(
        session, "password_changed" if own else "password_reset", actor=by, subject=user
    )
    return user


# --------------------------------------------------------------------------- calendar


def can_edit_calendar(by: User | None) -> bool:
    """Only admins of a top-level agency (or the CLI) change the calendar.

    The calendar is national and moves every agency's deadlines; a department admin
    editing it would change their superior's deadlines, which docs/domain.md §1 does not allow.
    """
    return by is None or ("admin" in by.roles and by.agency.parent_id is None)


def _require_calendar_keeper(by: User | None) -> None:
    if not can_edit_calendar(by):
        raise PermissionDenied("工作日历影响所有机关的期限，只有最上级机关的管理员可以修改")


def _parse_day(value: date | str, field: str) -> date:
    try:
        day = parse_date(value)
    except ValueError as exc:
        raise ValidationError(FIX_FIELDS, {field: str(exc)}) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(FIX_FIELDS, {field: f"日期应在{FIRST_YEAR}–{LAST_YEAR}年之间"})
    return day


def _clean_note(note: str, field: str, limit: int) -> str:
    try:
        return clean_text(note, limit)
    except ValueError as exc:
        raise ValidationError(FIX_FIELDS, {field: str(exc)}) from None


def add_calendar_override(
    session: Session,
    day: date | str,
    is_workday: bool | str,
    note: str = "",
    *,
    by: User | None = None,
) -> CalendarOverride:
    """Declare one day a working day or a rest day; an existing entry for it is replaced.

    ``is_workday`` may be a :data:`DAY_KINDS` code, as a form sends it.
    """
    _require_calendar_keeper(by)
    parsed = _parse_day(day, "day")
    if isinstance(is_workday, str):
        if is_workday not in DAY_KINDS:
            raise ValidationError(FIX_FIELDS, {"kind": "请选择工作日或休息日"})
        is_workday = DAY_KINDS[is_workday][0]
    text = _clean_note(note, "note", MAX_OVERRIDE_NOTE)
    row = session.get(CalendarOverride, parsed)
    before = None if row is None else {"is_workday": row.is_workday, "note": row.note}
    if row is None:
        row = CalendarOverride(day=parsed)
        session.add(row)
    row.is_workday = is_workday
    row.note = text
    calendar_changed(session)
    security_log.record(
        session,
        "calendar_changed",
        actor=by,
        detail={
            "day": parsed.isoformat(),
            "before": before,
            "after": {"is_workday": is_workday, "note": text},
        },
    )
    return row


def remove_calendar_override(session: Session, day: date | str, *, by: User | None = None) -> None:
    """Delete one override; the day falls back to the package (or the weekend rule)."""
    _require_calendar_keeper(by)
    row = session.get(CalendarOverride, _parse_day(day, "day"))
    if row is None:
        raise NotFound("该日期没有调整记录")
    before = {"is_workday": row.is_workday, "note": row.note}
    session.delete(row)
    calendar_changed(session)
    security_log.record(
        session,
        "calendar_deleted",
        actor=by,
        detail={"day": row.day.isoformat(), "before": before, "after": None},
    )


def calendar_changed(session: Session) -> int:
    """After a calendar edit: write it (which gives the calendar a new token, see
    ``models.calendar``) and move the stored reply deadline of every open request in the
    same transaction, recount the working days to reply of replied requests, and move
    the agency's own deadlines stored on its cases (``workflow.challenges.due_dates``).
    Returns how many deadlines moved."""
    session.flush()
    calendar = load_calendar(session)
    refresh_reply_days(session, calendar)
    refresh_case_deadlines(session, calendar)
    return refresh_open_clocks(session, calendar)


def _year_overrides(session: Session, year: int) -> list[CalendarOverride]:
    return list(
        session.scalars(
            select(CalendarOverride)
            .where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(CalendarOverride.day)
        )
    )


def parse_day_lines(text: str) -> tuple[list[tuple[int, date]], list[tuple[int, str]]]:
    """Dates from a textarea: one date or range per line, blank lines ignored.

    A range is written ``2027-02-06~2027-02-14`` (also ``～``, ``至`` or ``到``), both ends
    included. Returns ``(line number, day)`` pairs and ``(line number, problem)`` pairs,
    the line number counted as the textarea shows it, so a clerk finds the line at once.
    """
    days: list[tuple[int, date]] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = _RANGE_SEPARATOR.split(line)
        if len(parts) > 2 or not all(parts):
            problems.append((number, f"“{line[:40]}”应为一个日期或“起始日期~结束日期”"))
            continue
        try:
            start, end = parse_date(parts[0]), parse_date(parts[-1])
        except ValueError as exc:
            problems.append((number, str(exc)))
            continue
        if end < start:
            problems.append((number, "结束日期早于起始日期"))
        elif (end - start).days >= MAX_RANGE_DAYS:
            problems.append((number, f"区间超过{MAX_RANGE_DAYS}天，请检查日期"))
        else:
            days.extend((number, start + timedelta(d)) for d in range((end - start).days + 1))
    return days, problems


@dataclass(frozen=True)
class ArrangementSummary:
    """What saving a year's notice did, for the confirmation message."""

    year: int
    holidays: int
    workdays: int
    replaced: int


def _parse_year(value: int | str) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise LineErrors({"year": ["请填写四位年份"]})
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LineErrors({"year": [f"年份应在{FIRST_YEAR}–{LAST_YEAR}之间"]})
    return year


def _day_problem(day: date, year: int, is_workday: bool, known: dict[date, bool]) -> str:
    """Why ``day`` cannot be listed as a holiday / make-up working day of ``year``."""
    if day.year != year:
        return f"{day.isoformat()} 不在{year}年内"
    if is_workday and day.weekday() < 5:
        weekday = WEEKDAYS[day.weekday()]
        return f"{day.isoformat()} 是周{weekday}，调休上班日应为周六或周日"
    if known.get(day, is_workday) != is_workday:
        return f"{day.isoformat()} 已列为放假日期"
    return ""


def _arrangement_days(
    year: int, holidays: str, workdays: str
) -> tuple[dict[date, bool], dict[str, list[str]]]:
    """The year's overrides from the two textareas, and every bad line by field.

    Holidays are read first, so a day in both lists is reported on the make-up line.
    Each line is reported once (its first problem), in line order.
    """
    messages: dict[str, list[str]] = {}
    overrides: dict[date, bool] = {}
    for field, text, is_workday in (("holidays", holidays, False), ("workdays", workdays, True)):
        if len(text) > MAX_ARRANGEMENT_TEXT:
            messages[field] = [f"内容过长（不超过{MAX_ARRANGEMENT_TEXT}个字符）"]
            continue
        days, problems = parse_day_lines(text)
        bad = {number for number, _ in problems}
        for number, day in days:
            problem = "" if number in bad else _day_problem(day, year, is_workday, overrides)
            if problem:
                problems.append((number, problem))
                bad.add(number)
            elif number not in bad:
                overrides[day] = is_workday
        if problems:
            messages[field] = [f"第{n}行：{m}" for n, m in sorted(problems)]
    if "holidays" not in messages and all(overrides.values()):
        messages["holidays"] = ["请填写放假日期"]
    return overrides, messages


def enter_year_arrangement(
    session: Session,
    year: int | str,
    holidays: str,
    workdays: str,
    note: str = "",
    *,
    by: User | None = None,
) -> ArrangementSummary:
    """Store a State Council holiday notice for ``year`` and mark the year announced.

    The holidays and make-up working days become overrides; the year stops being
    provisional, so every deadline reaching into it becomes definite (deadlines are
    computed from the calendar on every view, so they move at once). Entering a year
    again replaces all of that year's overrides, including single days added by hand:
    the notice is the whole truth for the year. Nothing is stored if any line is wrong.
    """
    _require_calendar_keeper(by)
    number = _parse_year(year)
    overrides, messages = _arrangement_days(number, holidays, workdays)
    try:
        text = clean_text(note, MAX_YEAR_NOTE)
    except ValueError as exc:
        messages["note"] = [str(exc)]
        text = ""
    if messages:
        raise LineErrors(messages)
    old = _year_overrides(session, number)
    before = {r.day.isoformat(): r.is_workday for r in old}
    for row in old:
        session.delete(row)
    session.flush()
    day_note = (text or f"{number}年放假安排")[:MAX_OVERRIDE_NOTE]
    session.add_all(
        CalendarOverride(day=day, is_workday=is_workday, note=day_note)
        for day, is_workday in sorted(overrides.items())
    )
    marker = session.get(CalendarYear, number) or CalendarYear(year=number)
    marker.note = text
    marker.entered_at = utcnow()
    session.add(marker)
    calendar_changed(session)
    security_log.record(
        session,
        "calendar_year_entered",
        actor=by,
        detail={
            "year": number,
            "note": text,
            "before": before,
            "after": {d.isoformat(): w for d, w in sorted(overrides.items())},
        },
    )
    return ArrangementSummary(
        year=number,
        holidays=sum(1 for w in overrides.values() if not w),
        workdays=sum(1 for w in overrides.values() if w),
        replaced=len(old),
    )


def day_lines(days: Iterable[date]) -> str:
    """Days as the textarea takes them: consecutive days folded into ``start~end`` lines.

    The inverse of :func:`parse_day_lines`, so a stored year can be shown for editing
    and saved again unchanged.
    """
    lines: list[str] = []
    run: list[date] = []
    for day in sorted(set(days)):
        if run and day - run[-1] != timedelta(days=1):
            lines.append(_run_text(run))
            run = []
        run.append(day)
    if run:
        lines.append(_run_text(run))
    return "\n".join(lines)


def _run_text(run: list[date]) -> str:
    if len(run) == 1:
        return run[0].isoformat()
    return f"{run[0].isoformat()}~{run[-1].isoformat()}"


def stored_arrangement(session: Session, year: int) -> tuple[str, str, str]:
    """A year's overrides and note as the arrangement form shows them (to edit and resave)."""
    rows = _year_overrides(session, year)
    marker = session.get(CalendarYear, year)
    return (
        day_lines(r.day for r in rows if not r.is_workday),
        day_lines(r.day for r in rows if r.is_workday),
        marker.note if marker else "",
    )


@dataclass(frozen=True)
class YearStatus:
    """Where a year's working days come from, for the calendar page."""

    year: int
    #: ``announced`` (entered by an admin), ``package`` (shipped) or ``provisional``.
    source: str
    label: str
    note: str
    entered_at: datetime | None
    overrides: int


def calendar_years(session: Session, today: date) -> list[YearStatus]:
    """Every year from 2019 to next year (plus any entered later), with its data source."""
    entered = {y.year: y for y in session.scalars(select(CalendarYear))}
    counts: dict[int, int] = {}
    for day in session.scalars(select(CalendarOverride.day)):
        counts[day.year] = counts.get(day.year, 0) + 1
    covered = DEFAULT_CALENDAR.covered_years()
    years = sorted(set(range(FIRST_YEAR, today.year + 2)) | set(entered))
    statuses = []
    for year in years:
        marker = entered.get(year)
        if marker is not None:
            source = "announced"
            label = "管理员已录入放假安排" + ("（优先于软件数据）" if year in covered else "")
        elif year in covered:
            source, label = "package", "已随软件提供（chinesecalendar）"
        else:
            source, label = "provisional", "暂定：仅按周末和法定固定假日计算"
        statuses.append(
            YearStatus(
                year=year,
                source=source,
                label=label,
                note=marker.note if marker else "",
                entered_at=marker.entered_at if marker else None,
                overrides=counts.get(year, 0),
            )
        )
    return statuses


def role_labels(roles: Iterable[str]) -> list[str]:
    """Chinese role names in catalogue order (unknown codes shown as they are)."""
    held = set(roles)
    known = [r.label for r in ROLE_BY_CODE.values() if r.code in held]
    return known + sorted(held - set(ROLE_BY_CODE))


def set_two_factor(session: Session, user: User, secret: str | None, step: int | None) -> list[str]:
    """Switch the account's TOTP on (with the secret its first code confirmed, and that
    code's step, used up) or off (``None``); the user acts on their own account only.

    Switching on returns the new recovery codes, to be shown once and never again;
    switching off deletes them (a code must not outlive the factor it stands in for).
    """
    user.totp_secret, user.totp_last_step = secret, step
    session.flush()
    kind = "totp_enabled" if secret else "totp_disabled"
    security_log.record(session, kind, actor=user, subject=user)
    if secret is None:
        _drop_recovery_codes(session, user)
        return []
    return _store_recovery_codes(session, user)


def _drop_recovery_codes(session: Session, user: User) -> int:
    result = session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def _store_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the account's recovery codes by a fresh set; the codes, shown once."""
    _drop_recovery_codes(session, user)
    codes = two_factor.new_recovery_codes()
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=two_factor.recovery_hash(code)) for code in codes
    )
    session.flush()
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is one of the account's unused recovery codes; it is then used up.

    The UPDATE names the unused row, so two sign-ins racing with the same code cannot
    both pass: one of them changes no row.
    """
    if two_factor.normal_recovery_code(code) is None:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == two_factor.recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=naive_utc(now))
    )
    if not int(getattr(result, "rowcount", 0) or 0):
        return False
    security_log.record(
        session,
        "recovery_code_used",
        actor=user,
        subject=user,
        detail={"left": recovery_codes_left(session, user)},
    )
    return True


def renew_recovery_codes(session: Session, user: User, password: str, code_ok: bool) -> list[str]:
    """A new set of recovery codes for the user's own account, the old ones void.

    Needs the password again and a current TOTP code (``code_ok``, checked by the caller
    that owns the replay guard): a session left open is not enough to take the codes.
    """
    if user.totp_secret is None:
        raise DomainError("尚未启用动态口令，没有恢复码")
    errors: dict[str, str] = {}
    if not user.check_password(password):
        errors["password"] = "登录密码不正确"
    if not code_ok:
        errors["code"] = "动态口令不正确或已使用，请输入验证器上的最新6位数字"
    _refuse(errors)
    codes = _store_recovery_codes(session, user)
    security_log.record(session, "recovery_codes_renewed", actor=user, subject=user)
    return codes


def reset_two_factor(session: Session, user: User, *, by: User) -> User:
    """An administrator clears another account's TOTP and recovery codes (a lost phone
    and lost codes); the admin's password was checked again by the caller.

    Never one's own (that is the account page's switch-off, which needs a current code):
    an admin with a borrowed session must not strip their own second factor this way.
    The account's sessions end; where two factors are required its owner sets TOTP up
    again at the next sign-in, before any other page.
    """
    if _is_self(user, by):
        raise PermissionDenied("不能在这里重置自己的动态口令，请在“动态口令”页面操作")
    if user.totp_secret is None:
        raise DomainError(f"{user.username} 尚未启用动态口令，无需重置")
    user.totp_secret, user.totp_last_step = None, None
    dropped = _drop_recovery_codes(session, user)
    ended = end_all_sessions(session, user)
    session.flush()
    security_log.record(
        session,
        "totp_reset",
        actor=by,
        subject=user,
        detail={
            "before": {"totp": True},
            "after": {"totp": False},
            "recovery_codes": dropped,
            "sessions_ended": ended,
        },
    )
    return user
