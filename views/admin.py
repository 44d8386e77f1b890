"""System administration pages: accounts and roles, agencies, the working-day calendar.

Admins only (checked once for the whole blueprint, so a new route cannot forget it), and
only within their own branch of the agency tree: every account or agency is loaded or
offered through ``workflow.admin.operations``, which applies that scope; another branch's
accounts answer 404. Each POST parses the form into plain strings, calls one operation
of ``workflow.admin.operations`` (the same the CLI calls), commits once and redirects; a refusal
is rolled back and shown inline on the form it came from, with status 400.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from models import Agency, CalendarOverride, User
from views.access import MAX_ID, require_roles
from views.auth import end_sessions
from views.common import Refused, local_time, perform, signed_in_user, utc_now
from views.database import db
from views.forms import PayloadForm, submit_form
from views.rate_limits import client_address, login_limits
from views.security import log
from workflow.admin import agencies as agency_ops
from workflow.admin import operations as admin_ops
from workflow.admin.operations import DAY_KINDS
from workflow.catalog.roles import ROLES
from workflow.kernel.actor import local_today
from workflow.kernel.errors import NotFound, ValidationError

bp = Blueprint("admin", __name__, url_prefix="/admin")

T = TypeVar("T")
_PLACEHOLDER = "— 请选择 —"
#: ``is_workday`` → its label, from the same data as the form's choices.
KIND_LABELS: dict[bool, str] = dict(DAY_KINDS.values())
#: The single-day form shares the calendar page with the year form (both have a "note").
OVERRIDE_PREFIX = "override"
_ROLE_CHOICES = [SelectChoice(r.code, r.label) for r in ROLES]
_PASSWORD_HELP = (
    f"至少{admin_ops.MIN_PASSWORD}位，不能是常见密码或用户名；请通过安全方式告知本人，"
    "本人首次登录时须改为自己的密码"
)


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    """Every admin page, GET or POST, needs a signed-in admin (safe by default)."""


def _today() -> date:
    return local_today(datetime.now(UTC))


# --------------------------------------------------------------------------- forms


class AdminForm(PayloadForm):
    """A render-only form: CSRF token and inputs; the rules are ``admin_ops``'s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors = []

    def raw(self) -> dict[str, str]:
        """As :meth:`PayloadForm.raw`, but honouring a form prefix (two forms, one page)."""
        return {name: request.form.get(self[name].name, "") for name in self.payload_names}

    def ticked(self, name: str) -> list[str]:
        """A checkbox group's values exactly as sent (an unticked box is simply absent)."""
        return request.form.getlist(self[name].name)


class RoleChecks(SelectMultipleField):
    """Roles as checkboxes with their Chinese labels (several roles per account)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles_field() -> RoleChecks:
    return RoleChecks("角色", choices=_ROLE_CHOICES, validate_choice=False)


def _password_fields(label: str) -> tuple[PasswordField, PasswordField]:
    attrs = {"autocomplete": "new-password", "maxlength": admin_ops.MAX_PASSWORD}
    return (
        PasswordField(label, description=_PASSWORD_HELP, render_kw=attrs),
        PasswordField("再次输入密码", render_kw=attrs),
    )


class UserForm(AdminForm):
    payload_names = ("username", "display_name", "agency", "roles", "password", "confirm")
    username = StringField(
        "用户名",
        description="2–64位字母、数字、下划线、点或连字符，用于登录",
        render_kw={"maxlength": 64, "autocomplete": "off"},
    )
    display_name = StringField(
        "姓名", description="显示在办理记录中；不填则同用户名", render_kw={"maxlength": 100}
    )
    agency = SelectField("所属机关", validate_choice=False)
    roles = _roles_field()
    password, confirm = _password_fields("初始密码")


def _admin_password_field() -> PasswordField:
    """The admin's own password, asked again before a sensitive change (ASVS V3.7.1)."""
    return PasswordField(
        "您的登录密码",
        description="修改他人角色、密码或动态口令前，请再次输入您自己的密码",
        render_kw={"autocomplete": "current-password", "maxlength": admin_ops.MAX_PASSWORD},
    )


class RolesForm(AdminForm):
    payload_names = ("roles", "admin_password")
    roles = _roles_field()
    admin_password = _admin_password_field()


class PasswordForm(AdminForm):
    payload_names = ("password", "confirm", "admin_password")
    password, confirm = _password_fields("新密码")
    admin_password = _admin_password_field()


class TwoFactorResetForm(AdminForm):
    payload_names = ("admin_password",)
    admin_password = _admin_password_field()


class ActiveForm(AdminForm):
    """Only the CSRF token and the wanted state (``active`` = "1" or "0")."""

    active = HiddenField()


class AgencyForm(AdminForm):
    payload_names = ("code", "name", "parent")
    code = StringField(
        "机关代码",
        description="小写字母、数字和连字符，如 county-edu；创建后不能修改",
        render_kw={"maxlength": 63, "autocomplete": "off"},
    )
    name = StringField("机关名称", render_kw={"maxlength": admin_ops.MAX_AGENCY_NAME})
    parent = SelectField("上级机关", validate_choice=False)


class AgencyEditForm(AdminForm):
    payload_names = ("name", "report_level", "decision_signoff", "active", "reason")
    name = StringField("机关名称", render_kw={"maxlength": admin_ops.MAX_AGENCY_NAME})
    report_level = SelectField(
        "报告层级",
        choices=[SelectChoice(code, label) for code, label in agency_ops.REPORT_LEVEL_CHOICES],
        validate_choice=False,
        description="《条例》第四十九条：决定年度报告的公布期限（工作台的提醒）",
    )
    decision_signoff = SelectField(
        "答复签发",
        choices=[
            SelectChoice("0", "不须签发：答复决定后即可出具答复书"),
            SelectChoice("1", "须经审核人签发后才能出具答复书"),
        ],
        validate_choice=False,
        description="审核签发：承办人提请，审核人本人签发；本人提请的由其他审核人签发",
    )
    active = SelectField(
        "状态",
        choices=[SelectChoice("1", "启用"), SelectChoice("0", "停用")],
        validate_choice=False,
    )
    reason = TextAreaField(
        "变更说明",
        description="更名须说明原因（如机构改革的文件）；已发布的年度报告保留原名称",
        render_kw={"rows": 2, "maxlength": agency_ops.MAX_REASON},
    )


class RemediesForm(AdminForm):
    """The 复议机关 and court an agency's replies name (行政复议法 Arts. 24, 27)."""

    payload_names = tuple(admin_ops.REMEDY_FIELDS)
    reconsideration_body = StringField(
        "行政复议机关",
        description="全称，如“某某县人民政府”；答复书据此告知申请人",
        render_kw={"maxlength": admin_ops.MAX_AGENCY_NAME},
    )
    court = StringField(
        "管辖法院",
        description="全称，如“某某县人民法院”",
        render_kw={"maxlength": admin_ops.MAX_AGENCY_NAME},
    )


class OverrideForm(AdminForm):
    payload_names = ("day", "kind", "note")
    day = DateField("日期")
    kind = SelectField(
        "类型",
        choices=[SelectChoice("", _PLACEHOLDER)]
        + [SelectChoice(k, label) for k, (_, label) in DAY_KINDS.items()],
        validate_choice=False,
    )
    note = StringField(
        "说明",
        description="如：地方调整、文件文号",
        render_kw={"maxlength": admin_ops.MAX_OVERRIDE_NOTE},
    )


class YearForm(AdminForm):
    payload_names = ("year", "holidays", "workdays", "note")
    year = StringField("年份", render_kw={"inputmode": "numeric", "maxlength": 4})
    holidays = TextAreaField(
        "放假日期（含周末）",
        description="每行一个日期或区间：2027-02-06 或 2027-02-06~2027-02-14（也可用“至”）",
        render_kw={"rows": 10, "maxlength": admin_ops.MAX_ARRANGEMENT_TEXT},
    )
    workdays = TextAreaField(
        "调休上班日期",
        description="每行一个日期或区间；须为周六或周日",
        render_kw={"rows": 10, "maxlength": admin_ops.MAX_ARRANGEMENT_TEXT},
    )
    note = StringField(
        "依据",
        description="如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕x号）",
        render_kw={"maxlength": admin_ops.MAX_YEAR_NOTE},
    )


# --------------------------------------------------------------------------- helpers

#: A concurrent duplicate (same username or agency code saved at the same moment).
SAVE_CONFLICT = "保存时与他人的操作冲突（例如同名记录刚被创建），请刷新后重试"


def _saved(form: AdminForm, action: Callable[[], T]) -> T | None:
    """:func:`~views.forms.submit_form` with the admin's conflict message; None if refused."""
    return submit_form(form, action, conflict=SAVE_CONFLICT)[0]


def _agency_choices(agencies: Iterable[Agency], root: Agency) -> list[SelectChoice]:
    """Manageable agencies as select options (placeholder first), indented as a tree."""
    return [SelectChoice("", _PLACEHOLDER)] + [
        SelectChoice(a.code, f"{'　' * _depth(a, root)}{a.name}（{a.code}）")
        for a in agencies  # descendants() order: parents before their children
    ]


def _depth(agency: Agency, root: Agency) -> int:
    """Levels below ``root`` (the admin's own agency), for indenting the tree."""
    depth = 0
    while agency.id != root.id and agency.parent is not None:
        agency, depth = agency.parent, depth + 1
    return depth


# --------------------------------------------------------------------------- overview


@bp.get("")
def home() -> str:
    """Overview: what there is to manage, and whether a coming year is still provisional."""
    me = signed_in_user()
    agencies = admin_ops.manageable_agencies(me)
    ids = [a.id for a in agencies]
    accounts = list(db().scalars(select(User).where(User.agency_id.in_(ids))))
    years = admin_ops.calendar_years(db(), _today())
    return render_template(
        "admin/home.html",
        agency_count=len(agencies),
        user_count=len(accounts),
        inactive_count=sum(1 for u in accounts if not u.active),
        provisional=[y for y in years if y.source == "provisional"],
        can_edit_calendar=admin_ops.can_edit_calendar(me),
    )


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserRow:
    user: User
    roles: list[str]


@bp.get("/users")
def users() -> str:
    """Every account of the admin's branch, grouped by agency."""
    me = signed_in_user()
    agencies = admin_ops.manageable_agencies(me)
    order = {a.id: i for i, a in enumerate(agencies)}
    found = db().scalars(select(User).where(User.agency_id.in_(order)))
    rows = [
        UserRow(u, admin_ops.role_labels(u.roles))
        for u in sorted(found, key=lambda u: (order[u.agency_id], u.username.lower()))
    ]
    return render_template("admin/users.html", rows=rows, me=me)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Response | tuple[str, int]:
    """Open an account in one of the admin's agencies."""
    me = signed_in_user()
    form = UserForm()
    form.agency.choices = _agency_choices(admin_ops.manageable_agencies(me), me.agency)
    if request.method == "GET":
        form.agency.data = me.agency.code
    status = 200
    if request.method == "POST":
        raw = form.raw()
        user = _saved(
            form,
            lambda: admin_ops.create_user(
                db(),
                raw["username"],
                raw["display_name"],
                raw["agency"],
                form.ticked("roles"),
                raw["password"],
                confirmation=raw["confirm"],
                by=me,
            ),
        )
        if user is not None:
            flash(f"已创建用户 {user.username}（{user.display_name}）", "success")
            return redirect(url_for(".users"))
        status = 400
    return render_template("admin/user_new.html", form=form, roles=ROLES), status


def _user_page(
    user: User,
    *,
    roles_form: RolesForm | None = None,
    password_form: PasswordForm | None = None,
    active_form: ActiveForm | None = None,
    two_factor_form: TwoFactorResetForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if roles_form is None:
        roles_form = RolesForm(formdata=None)
        roles_form.roles.data = sorted(user.roles)
    return render_template(
        "admin/user_edit.html",
        account=user,
        created=local_time(user.created_at),
        role_names=admin_ops.role_labels(user.roles),
        roles_form=roles_form,
        password_form=password_form or PasswordForm(formdata=None),
        active_form=active_form or ActiveForm(formdata=None),
        two_factor_form=two_factor_form or TwoFactorResetForm(formdata=None),
        is_self=user.id == signed_in_user().id,
        roles=ROLES,
    ), status


def _account(user_id: int) -> User:
    """The account if it is in the admin's branch, else 404 (see ``load_managed_user``)."""
    return admin_ops.load_managed_user(db(), user_id, signed_in_user())


@bp.get(f"/users/<int(max={MAX_ID}):user_id>")
def user_detail(user_id: int) -> tuple[str, int]:
    """One account: roles, sign-in allowed or not, password reset."""
    return _user_page(_account(user_id))


@bp.post(f"/users/<int(max={MAX_ID}):user_id>/roles")
def user_roles(user_id: int) -> Response | tuple[str, int]:
    """Replace the roles; takes effect on the user's next page (roles are read per request)."""
    me, user = signed_in_user(), _account(user_id)
    form = RolesForm()
    roles = form.ticked("roles")
    password = form.raw()["admin_password"]

    def change() -> User:
        _confirmed(me, password, "roles_changed", user)
        return admin_ops.set_user_roles(db(), user, roles, by=me)

    if _saved(form, change) is None:
        return _user_page(user, roles_form=form, status=400)
    flash(f"已更新 {user.username} 的角色：{'、'.join(admin_ops.role_labels(roles))}", "success")
    return redirect(url_for(".user_detail", user_id=user.id))


@bp.post(f"/users/<int(max={MAX_ID}):user_id>/active")
def user_active(user_id: int) -> Response | tuple[str, int]:
    """Allow or stop sign-in; stopping ends every open session of the account at once."""
    me, user = signed_in_user(), _account(user_id)
    form = ActiveForm()
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400)  # a forged or truncated form: do nothing rather than guess
    active = wanted == "1"
    if _saved(form, lambda: admin_ops.set_user_active(db(), user, active, by=me)) is None:
        return _user_page(user, active_form=form, status=400)
    flash(f"已{'启用' if active else '停用'}账号 {user.username}", "success")
    return redirect(url_for(".user_detail", user_id=user.id))


@bp.post(f"/users/<int(max={MAX_ID}):user_id>/password")
def user_password(user_id: int) -> Response | tuple[str, int]:
    """Set a password the admin chose (for a user who forgot theirs)."""
    me, user = signed_in_user(), _account(user_id)
    form = PasswordForm()
    raw = form.raw()
    done = _saved(
        form,
        lambda: _reset_and_sign_out(user, raw, me),
    )
    if done is None:
        return _user_page(user, password_form=form, status=400)
    flash(f"已重置 {user.username} 的密码", "success")
    return redirect(url_for(".user_detail", user_id=user.id))


@bp.post(f"/users/<int(max={MAX_ID}):user_id>/two-factor")
def user_two_factor(user_id: int) -> Response | tuple[str, int]:
    """Clear another user's TOTP and recovery codes (a lost phone): the admin's password
    again, logged; the account's sessions end and its owner sets TOTP up anew."""
    me, user = signed_in_user(), _account(user_id)
    form = TwoFactorResetForm()
    password = form.raw()["admin_password"]

    def reset() -> User:
        _confirmed(me, password, "totp_reset", user)
        return admin_ops.reset_two_factor(db(), user, by=me)

    if _saved(form, reset) is None:
        return _user_page(user, two_factor_form=form, status=400)
    flash(f"已重置 {user.username} 的动态口令，其登录会话已结束", "success")
    return redirect(url_for(".user_detail", user_id=user.id))


def _reset_and_sign_out(user: User, raw: dict[str, str], me: User) -> User:
    """A reset password also ends the account's sessions (someone may know the old one)."""
    _confirmed(me, raw["admin_password"], "password_reset", user)
    changed = admin_ops.reset_password(
        db(), user, raw["password"], confirmation=raw["confirm"], by=me
    )
    end_sessions(user.id)
    return changed


def _confirmed(me: User, password: str, what: str, user: User) -> bool:
    """The admin's password, checked again; a wrong one is logged and counts as a failed
    login (a borrowed session must not become a way to guess it)."""
    try:
        admin_ops.confirm_admin_password(me, password)
    except ValidationError:
        login_limits().failed(me.username, client_address())
        log("reauth_failed", subject=me, detail={"operation": what, "account": user.username})
        raise
    return True


# --------------------------------------------------------------------------- agencies


@dataclass(frozen=True)
class AgencyRow:
    agency: Agency
    depth: int
    users: int


@bp.route("/agencies", methods=["GET", "POST"])
def agencies() -> Response | tuple[str, int]:
    """The admin's branch of the agency tree, and a form to add an agency to it."""
    me = signed_in_user()
    managed = admin_ops.manageable_agencies(me)
    form = AgencyForm()
    form.parent.choices = _agency_choices(managed, me.agency)
    if request.method == "GET":
        form.parent.data = me.agency.code
    status = 200
    if request.method == "POST":
        raw = form.raw()
        made = _saved(
            form,
            lambda: admin_ops.create_agency(db(), raw["code"], raw["name"], raw["parent"], by=me),
        )
        if made is not None:
            flash(f"已创建机关 {made.code}（{made.name}）", "success")
            return redirect(url_for(".agencies"))
        status = 400
    counts = Counter(
        db().scalars(select(User.agency_id).where(User.agency_id.in_([a.id for a in managed])))
    )
    rows = [AgencyRow(a, _depth(a, me.agency), counts[a.id]) for a in managed]
    return render_template(
        "admin/agencies.html", rows=rows, form=form, levels=dict(agency_ops.REPORT_LEVEL_CHOICES)
    ), status


@bp.route(f"/agencies/<int(max={MAX_ID}):agency_id>", methods=["GET", "POST"])
def edit_agency(agency_id: int) -> Response | tuple[str, int]:
    """Rename an agency, set its report level, deactivate it; with its change history."""
    me = signed_in_user()
    session = db()
    agency = agency_ops.load_managed_agency(session, agency_id, me)
    form = AgencyEditForm()
    if request.method == "GET":
        form.name.data = agency.name
        form.report_level.data = agency.report_level or ""
        form.decision_signoff.data = "1" if agency.decision_signoff else "0"
        form.active.data = "1" if agency.active else "0"
    status = 200
    if request.method == "POST":
        raw = form.raw()
        changes = _saved(
            form, lambda: agency_ops.update_agency(session, agency, raw, by=me, now=utc_now())
        )
        if changes is not None:
            flash(f"已保存机关“{agency.name}”（{len(changes)} 项变更）", "success")
            return redirect(url_for(".edit_agency", agency_id=agency.id))
        status = 400
    return render_template(
        "admin/agency.html",
        agency=agency,
        form=form,
        history=agency_ops.history(session, agency),
        field_labels=agency_ops.FIELD_LABELS,
        open_requests=agency_ops.open_requests(session, agency),
    ), status


@bp.route("/agencies/<code>/remedies", methods=["GET", "POST"])
def agency_remedies(code: str) -> Response | tuple[str, int]:
    """Set the 复议机关 and the court an agency's replies name, with a proposal."""
    me = signed_in_user()
    agency = next((a for a in admin_ops.manageable_agencies(me) if a.code == code), None)
    if agency is None:
        abort(404)
    form = RemediesForm()
    if request.method == "GET":
        form.reconsideration_body.data = agency.reconsideration_body or ""
        form.court.data = agency.court or ""
    status = 200
    if request.method == "POST":
        raw = form.raw()
        saved = _saved(form, lambda: admin_ops.set_agency_remedies(db(), code, raw, by=me))
        if saved is not None:
            flash(f"已保存{saved.name}的行政复议机关和管辖法院", "success")
            return redirect(url_for(".agencies"))
        status = 400
    proposal = admin_ops.propose_remedy_bodies(agency)
    page = render_template(
        "admin/agency_remedies.html", agency=agency, form=form, proposal=proposal
    )
    return page, status


# --------------------------------------------------------------------------- calendar


def _calendar_page(
    *,
    override_form: OverrideForm | None = None,
    year_form: YearForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The calendar page; a form passed in (after a refusal) keeps what was typed."""
    session = db()
    today = _today()
    years = admin_ops.calendar_years(session, today)
    if year_form is None:
        year_form = YearForm(formdata=None)
        chosen = _year_arg(years)
        year_form.year.data = str(chosen)
        stored = admin_ops.stored_arrangement(session, chosen)
        year_form.holidays.data, year_form.workdays.data, year_form.note.data = stored
    overrides = list(session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))
    return render_template(
        "admin/calendar.html",
        years=years,
        overrides=overrides,
        override_form=override_form or OverrideForm(formdata=None, prefix=OVERRIDE_PREFIX),
        year_form=year_form,
        can_edit=admin_ops.can_edit_calendar(signed_in_user()),
        weekdays=admin_ops.WEEKDAYS,
        kind_labels=KIND_LABELS,
    ), status


def _year_arg(years: list[admin_ops.YearStatus]) -> int:
    """The year the arrangement form starts on: ``?year=`` if listed, else the first
    provisional year (the one that needs entering), else next year."""
    listed = {y.year for y in years}
    text = request.args.get("year", "")
    if len(text) == 4 and text.isascii() and text.isdigit() and int(text) in listed:
        return int(text)
    provisional = [y.year for y in years if y.source == "provisional"]
    return provisional[0] if provisional else _today().year + 1


@bp.get("/calendar")
def calendar() -> tuple[str, int]:
    """Where each year's working days come from, the overrides, and the two entry forms."""
    return _calendar_page()


@bp.post("/calendar/overrides")
def add_override() -> Response | tuple[str, int]:
    """Set one day's status (local deviation or correction)."""
    me = signed_in_user()
    form = OverrideForm(prefix=OVERRIDE_PREFIX)
    raw = form.raw()
    row = _saved(
        form,
        lambda: admin_ops.add_calendar_override(db(), raw["day"], raw["kind"], raw["note"], by=me),
    )
    if row is None:
        return _calendar_page(override_form=form, status=400)
    kind = KIND_LABELS[row.is_workday]
    flash(f"已将 {row.day.isoformat()} 设为{kind}；各申请的期限已按新日历计算", "success")
    return redirect(url_for(".calendar"))


@bp.post("/calendar/overrides/<day>/delete")
def delete_override(day: str) -> Response:
    """Drop one day's override; the day falls back to the package or the weekend rule."""
    me = signed_in_user()
    result = perform(lambda: admin_ops.remove_calendar_override(db(), day, by=me))
    if isinstance(result, Refused):  # a malformed date in the URL names no override
        raise NotFound("该日期没有调整记录")
    flash(f"已删除 {day} 的调整记录", "success")
    return redirect(url_for(".calendar"))


@bp.post("/calendar/years")
def enter_year() -> Response | tuple[str, int]:
    """Save a year's State Council notice; every bad line is listed and nothing is saved."""
    me = signed_in_user()
    form = YearForm()
    raw = form.raw()
    summary = _saved(
        form,
        lambda: admin_ops.enter_year_arrangement(
            db(), raw["year"], raw["holidays"], raw["workdays"], raw["note"], by=me
        ),
    )
    if summary is None:
        return _calendar_page(year_form=form, status=400)
    replaced = f"，替换原有调整 {summary.replaced} 天" if summary.replaced else ""
    flash(
        f"已录入{summary.year}年放假安排：放假 {summary.holidays} 天、调休上班 "
        f"{summary.workdays} 天{replaced}。各申请的期限已按新安排重新计算。",
        "success",
    )
    return redirect(url_for(".calendar", year=summary.year))
