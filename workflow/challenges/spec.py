"""The challenge lifecycle (复议 / 诉讼, docs/domain.md §5) as data, run by the same machinery.

file → pending → conclude → concluded; an appeal to a higher instance (二审/再审)
continues the same case (concluded → pending) and its latest result is the one that
counts. A 二审 remand (发回重审) sends the pending
case back to 一审 (pending → pending). Only legal officers record cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any

from workflow.catalog.challenges import (
    AFTER_RECONSIDERATION,
    COURT_INSTANCES,
    INSTANCE_LABELS,
    INSTANCES,
    INSTANCES_BY_KIND,
    KINDS,
    LITIGATION,
    RECONSIDERATION,
    RECONSIDERATION_INSTANCE,
    REMAND,
    RESULT_BY_CODE,
    RESULTS,
    ROUTES,
    results_for,
)
from workflow.kernel import guards as g
from workflow.kernel.lifecycle import Lifecycle, PayloadField, TransitionSpec


class ChallengeState(StrEnum):
    NEW = "new"
    PENDING = "pending"
    CONCLUDED = "concluded"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return CHALLENGE_STATE_LABELS[self]


CHALLENGE_STATE_LABELS = {
    ChallengeState.NEW: "新建",
    ChallengeState.PENDING: "审理中",
    ChallengeState.CONCLUDED: "已审结",
    ChallengeState.VOIDED: "已作废",
}

LEGAL = frozenset({"legal"})


def route_matches_kind(ctx: g.GuardContext) -> str | None:
    kind, route = ctx.payload.get("kind"), ctx.payload.get("route")
    if kind == LITIGATION and not route:
        return "行政诉讼须选择起诉方式（未经复议直接起诉 / 复议后起诉）"
    if kind == RECONSIDERATION and route:
        return "行政复议不选择起诉方式"
    return None


def prior_reconsideration_concluded(ctx: g.GuardContext) -> str | None:
    if ctx.payload.get("route") != AFTER_RECONSIDERATION:
        return None
    status = ctx.facts.get("prior_status")
    if status == "concluded":
        return None
    if status == "open":
        due = ctx.facts.get("prior_decision_due")
        if due and ctx.effective_date and ctx.effective_date > due:
            return None  # 行政诉讼法 Art. 45: the 复议机关 missed its decision period
        until = f"（复议决定期限 {due.isoformat()}）" if due else ""
        return (
            f"所指的行政复议尚未审结，复议机关的决定期限{until}届满前，"
            "复议后起诉须在复议决定作出之后（《行政诉讼法》第四十五条）"
        )
    return "复议后起诉须填写本申请已审结的行政复议案号"


def request_not_voided(ctx: g.GuardContext) -> str | None:
    if ctx.facts.get("request_state") == "voided":
        return "已作废的申请不能登记复议或诉讼"
    return None


def filed_after_receipt(ctx: g.GuardContext) -> str | None:
    received = ctx.facts.get("request_received_on")
    if received and ctx.effective_date and ctx.effective_date < received:
        return f"立案日期不能早于该申请的收到日期（{received.isoformat()}）"
    return None


def current_instance(history: Sequence[g.EventLike]) -> str | None:
    """The instance the case is at, read from its log (file, appeal, remand), or None."""
    found: str | None = None
    for event in history:
        if event.trigger == "file":
            kind = event.payload.get("kind")
            default = RECONSIDERATION_INSTANCE if kind == RECONSIDERATION else "first"
            found = event.payload.get("instance") or default
        elif event.trigger in ("appeal", "remand"):
            found = instance_after(event.payload)
    return found


def instance_after(payload: Mapping[str, Any]) -> str:
    """The instance an appeal or a remand puts the case at: an appeal names it, a remand
    goes back to 一审 unless a 再审 court sent it to the 二审 court."""
    return str(payload.get("instance") or "first")


def result_fits_kind(ctx: g.GuardContext) -> str | None:
    result = RESULT_BY_CODE.get(ctx.payload.get("result", ""))
    if result is None:
        return "请选择审理结果"
    if result.remands:
        return f"“{result.label}”不是审结：请使用“{REMAND_LABEL}”操作，案件回到一审继续审理"
    if result.kind is not None and result.kind != ctx.facts.get("kind"):
        return f"“{result.label}”不适用于此类案件"
    instance = current_instance(ctx.history)
    if result.instances is not None and instance not in result.instances:
        return f"“{result.label}”不适用于{INSTANCE_LABELS.get(instance or '', '本审级')}"
    return None


REMAND_LABEL = "发回重审"


#: Where a remand's rule is written: the appeal court's, and the retrial court's.
REMAND_SOURCES = "《行政诉讼法》第八十九条；法释〔2018〕1号第一百二十二条"


def remand_only_on_appeal(ctx: g.GuardContext) -> str | None:
    """Only the appeal court (二审, 行政诉讼法 Art. 89 para 1 items (三)/(四)) or a retrial
    court (再审, 法释〔2018〕1号 Art. 122) sends a case back."""
    instance = current_instance(ctx.history)
    if REMAND.instances is not None and instance not in REMAND.instances:
        where = INSTANCE_LABELS.get(instance or "", "本案")
        return f"只有二审或再审人民法院可以裁定发回重审（{REMAND_SOURCES}），本案现为{where}"
    return None


def remand_fits_instance(ctx: g.GuardContext) -> str | None:
    """A 二审 sends the case back to the first instance (原审人民法院); a 再审 to the court
    that gave the judgment it set aside, which may be the 二审 court."""
    target = instance_after(ctx.payload)
    if target != "first" and current_instance(ctx.history) != "retrial":
        return "二审裁定发回重审的，案件回到一审（原审人民法院）重审：重审审级请选择“一审”"
    return None


def instance_fits_kind(ctx: g.GuardContext) -> str | None:
    """A 行政复议 is not a 一审: its instance is the 复议; a lawsuit's is a court's."""
    kind, instance = ctx.payload.get("kind"), ctx.payload.get("instance")
    if not instance or kind not in INSTANCES_BY_KIND:
        return None
    if instance in dict(INSTANCES_BY_KIND[kind]):
        return None
    if kind == RECONSIDERATION:
        return f"行政复议不分审级，不是“{INSTANCE_LABELS[instance]}”：审级请选“复议”或不选"
    return "行政诉讼的审级为一审、二审或再审，“复议”不是诉讼的审级"


def appeal_only_in_court(ctx: g.GuardContext) -> str | None:
    """行政复议法 Art. 10: a 复议决定 is not appealed; the applicant sues (复议后起诉)."""
    if ctx.facts.get("kind") == RECONSIDERATION:
        return "行政复议决定不能上诉或再审：对复议决定不服的，请登记一件“复议后起诉”的行政诉讼案件"
    return None


def fields_for(
    spec: TransitionSpec, kind: str, instance: str | None = None
) -> tuple[PayloadField, ...]:
    """``spec``'s fields for a case of ``kind`` at ``instance``: the result list holds only
    the results of its own kind and instance (a 复议 is not 判决驳回, a judgment not 维持)."""
    results = tuple((r.code, r.label) for r in results_for(kind, instance))
    return tuple(replace(f, choices=results) if f.name == "result" else f for f in spec.fields)


_CASE_FIELDS = (
    PayloadField("body", "复议机关或人民法院", "text"),
    PayloadField("case_no", "案号", "text"),
)

CHALLENGE_TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        "file",
        "登记案件",
        (ChallengeState.NEW,),
        ChallengeState.PENDING,
        LEGAL,
        "立案（受理）日期",
        "申请人对答复或不答复不服的，可以在知道之日起60日内申请行政复议，或者6个月内提起"
        "行政诉讼；自2024年1月1日起，对不予公开决定不服的，应当先申请行政复议。",
        fields=(
            PayloadField("kind", "案件类型", "choice", choices=KINDS),
            PayloadField(
                "route", "起诉方式（仅行政诉讼）", "choice", required=False, choices=ROUTES
            ),
            *_CASE_FIELDS,
            PayloadField(
                "instance",
                "审级",
                "choice",
                choices=INSTANCES,
                required=False,
                help="行政诉讼：一审、二审或再审（不选为一审）；行政复议不分审级，记为“复议”",
            ),
            PayloadField(
                "prior_case_no",
                "复议案号（复议后起诉时填写）",
                "text",
                required=False,
            ),
            PayloadField(
                "copy_received_on",
                "收到复议申请书/起诉状副本日期",
                "date",
                required=False,
                help="本机关提交复议答复（10个工作日）或答辩状（15日）的期限自此日起算",
            ),
        ),
        payload_guards=(
            route_matches_kind,
            instance_fits_kind,
            prior_reconsideration_concluded,
            request_not_voided,
            filed_after_receipt,
        ),
    ),
    TransitionSpec(
        "appeal",
        "上诉/再审",
        (ChallengeState.CONCLUDED,),
        ChallengeState.PENDING,
        LEGAL,
        "立案日期",
        "上诉或再审延续同一案件，以最后一审的结果计入统计。",
        fields=(
            PayloadField("instance", "审级", "choice", choices=COURT_INSTANCES[1:]),
            *_CASE_FIELDS,
            PayloadField(
                "copy_received_on",
                "收到上诉状副本日期（对方上诉时填写）",
                "date",
                required=False,
                help="对方当事人上诉的，本机关自收到上诉状副本之日起15日内提出答辩状",
            ),
        ),
        preconditions=(appeal_only_in_court,),
    ),
    TransitionSpec(
        "conclude",
        "记录审理结果",
        (ChallengeState.PENDING,),
        ChallengeState.CONCLUDED,
        LEGAL,
        "决定书/判决书作出日期",
        "结果为责令重新答复的，申请将自动转为重新办理，但不重复计入年度统计。",
        fields=(
            PayloadField(
                "result", "审理结果", "choice", choices=tuple((r.code, r.label) for r in RESULTS)
            ),
            PayloadField("document_no", "文书编号", "text", required=False),
            PayloadField(
                "served_on",
                "送达日期",
                "date",
                required=False,
                help="复议决定书自送达之日起发生法律效力，复议后起诉的15日自送达之日起算",
            ),
            PayloadField(
                "reply_due_on",
                "决定书要求的答复期限",
                "date",
                required=False,
                help="责令重新答复且载明期限的，重新办理按此期限；未载明的按20个工作日",
            ),
            PayloadField("note", "备注", "text", required=False),
        ),
        payload_guards=(result_fits_kind,),
    ),
    TransitionSpec(
        "remand",
        REMAND_LABEL,
        (ChallengeState.PENDING,),
        ChallengeState.PENDING,
        LEGAL,
        "裁定作出日期",
        "二审人民法院裁定撤销原判、发回原审人民法院重审的（《行政诉讼法》第八十九条第一款第三项、"
        "第四项），案件回到一审继续审理；再审人民法院裁定撤销生效裁判、发回作出生效裁判的"
        "人民法院重审的（法释〔2018〕1号第一百二十二条），回到该法院的审级。不是纠正，"
        "申请不重新办理；已因原判重新办理的，撤销重新办理。计入表四“其他结果”（裁定当年）。",
        fields=(
            PayloadField(
                "instance",
                "重审审级",
                "choice",
                choices=COURT_INSTANCES[:2],
                required=False,
                help="二审发回的为一审；再审发回作出生效裁判的二审法院的，选二审",
            ),
            PayloadField("body", "重审的人民法院", "text"),
            PayloadField("case_no", "重审案号", "text"),
            PayloadField("document_no", "裁定书编号", "text", required=False),
            PayloadField("served_on", "送达日期", "date", required=False),
            PayloadField("note", "备注", "text", required=False),
        ),
        preconditions=(remand_only_on_appeal,),
        payload_guards=(remand_fits_instance,),
    ),
    TransitionSpec(
        "void",
        "作废",
        (ChallengeState.PENDING, ChallengeState.CONCLUDED),
        ChallengeState.VOIDED,
        frozenset({"legal", "admin"}),
        "作废日期",
        "登记错误的案件作废后不计入统计，记录永久保留。",
        fields=(PayloadField("reason", "作废原因", "text"),),
    ),
)

CHALLENGES = Lifecycle(
    CHALLENGE_TRANSITIONS, ChallengeState, start_attribute="filed_on", start_label="立案日期"
)


def case_actions(
    case: object, history: Sequence[g.EventLike], roles: frozenset[str], today: date
) -> list[tuple[TransitionSpec, list[str]]]:
    """The actions a case's page offers, with blocking reasons. A remand is a court's step:
    not offered on a 行政复议 at all (greyed, with its reason, at 一审)."""
    kind = getattr(case, "kind", None)
    return [
        (spec, reasons)
        for spec, reasons in CHALLENGES.available_actions(case, history, roles, today)
        if spec.trigger != "remand" or kind == LITIGATION
    ]
