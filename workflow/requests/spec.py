"""The request lifecycle (docs/domain.md §3) as data: one row per trigger.

Each row names its sources, destination, the roles that may fire it, the payload it asks
for (which the action form renders field by field), the legal rule it applies (shown on
the form) and its guards. The machine, the action buttons, the forms, the timeline and
the generated diagram in ``docs/`` all read this table.
"""

from __future__ import annotations

from workflow.catalog.fees import FEE_MEASURES, FEE_METHODS
from workflow.catalog.outcomes import DECISION_FACT_BY_FIELD
from workflow.catalog.service import DELIVERY_LABELS
from workflow.catalog.states import OPEN_STATES, PAUSED_STATES, STORED_STATES, State
from workflow.kernel import guards as g
from workflow.kernel.lifecycle import FieldKind, PayloadField, TransitionSpec
from workflow.requests import clock_guards as cg
from workflow.requests import fee_rules as fr
from workflow.requests import procedure_rules as pr

CLERKS = frozenset({"registrar", "handler"})
CASEWORKERS = frozenset({"registrar", "handler", "approver"})
DECIDERS = frozenset({"handler", "approver"})
#: Art. 33 para 2: an extension needs the 负责人's consent — the approver's own act; a
#: handler proposes it (提请审核, workflow.requests.office_operations.propose).
APPROVERS = frozenset({"approver"})

OPINIONS = (
    ("agree", "同意公开"),
    ("object", "不同意公开"),
    ("no_reply", "逾期未答复"),
)
DELIVERIES = (
    ("in_person", "当面领取"),
    ("post", "邮寄"),
    ("email", "电子邮件"),
    ("online", "网上平台"),
    ("on_the_spot", "当场答复"),
)
#: How a consultation letter or fee notice is sent: the receipt presumed until its
#: service date is recorded (workflow.catalog.service.PRESUMED_RECEIPT_DAYS).
_SENT_BY = PayloadField(
    "delivery",
    "送达方式",
    "choice",
    required=False,
    choices=tuple(DELIVERY_LABELS.items()),
    help="对方的期限自其收到之日起算；记录送达日期前，电子方式、当面送达推定当日收到，"
    "邮寄推定发出后第3日收到",
)

_NOTE = PayloadField("note", "备注", "text", required=False)


def _fact_field(name: str, kind: FieldKind, help: str) -> PayloadField:
    """A decide field the outcome catalogue may require (guards.decision_facts_present)."""
    return PayloadField(name, DECISION_FACT_BY_FIELD[name].label, kind, required=False, help=help)


#: The decide form: the outcome, the facts its reply states (which ones an outcome
#: requires is catalogue data: workflow.catalog.outcomes.Outcome.requires), the delivery.
DECIDE_FIELDS: tuple[PayloadField, ...] = (
    PayloadField("outcome", "处理结果", "outcome"),
    _fact_field(
        "grounds",
        "longtext",
        "不予公开、部分公开、非本机关负责公开、行政查询事项必填：写明理由，告知申请人",
    ),
    _fact_field(
        "legal_provision", "text", "“其他法律行政法规禁止公开”必填：法律或行政法规名称及条款"
    ),
    _fact_field("secret_basis", "text", "“属于国家秘密”必填：定密依据，或写明依法不予告知"),
    _fact_field("responsible_agency", "text", "“非本机关负责公开”必填：负责公开的行政机关名称"),
    _fact_field("responsible_contact", "text", "“非本机关负责公开”必填：该机关的地址、电话等"),
    _fact_field(
        "publication_route",
        "longtext",
        "“已主动公开”“公开出版物”必填：网址、公报期号、出版物名称及获取地点等",
    ),
    _fact_field(
        "referral_procedure", "text", "“行政查询事项”必填：有关法律法规及查询程序、办理机构"
    ),
    PayloadField("delivery", "送达方式", "choice", choices=DELIVERIES),
)
_OPEN = tuple(s for s in STORED_STATES if s in OPEN_STATES)

TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        "register",
        "登记",
        (State.NEW,),
        State.REGISTERED,
        CASEWORKERS,
        "收到申请日期",
        "《条例》第三十一条：收到申请之日按提交方式确定，一切期限自收到申请之日起算。",
    ),
    TransitionSpec(
        "accept",
        "受理",
        (State.REGISTERED,),
        State.IN_REVIEW,
        CASEWORKERS,
        "受理日期",
        "申请内容明确、要素齐全的，转入办理。",
    ),
    TransitionSpec(
        "request_supplement",
        "告知补正",
        (State.REGISTERED, State.IN_REVIEW),
        State.SUPPLEMENT_REQUESTED,
        CASEWORKERS,
        "告知补正日期",
        "《条例》第三十条：申请内容不明确的，应当自收到申请之日起7个工作日内一次性告知申请人"
        "作出补正，说明需要补正的事项和合理的补正期限；答复期限自收到补正的申请之日起计算。",
        fields=(
            PayloadField("items", "需要补正的事项", "longtext"),
            PayloadField("due_on", "补正期限", "date", help="申请人应在此日期前提交补正材料"),
        ),
        preconditions=(
            g.once_only("request_supplement", "补正只能一次性告知，本申请已告知过补正"),
        ),
        payload_guards=(g.date_after_effective("due_on", "补正期限应晚于告知补正日期"),),
    ),
    TransitionSpec(
        "receive_supplement",
        "收到补正材料",
        (State.SUPPLEMENT_REQUESTED,),
        State.IN_REVIEW,
        CASEWORKERS,
        "收到补正材料日期",
        "《条例》第三十条：答复期限自行政机关收到补正的申请之日起重新计算。",
        fields=(_NOTE,),
    ),
    TransitionSpec(
        "supplement_lapsed",
        "逾期未补正",
        (State.SUPPLEMENT_REQUESTED,),
        State.CONCLUDED,
        CASEWORKERS,
        "认定逾期日期",
        "《条例》第三十条：申请人无正当理由逾期不补正的，视为放弃申请，行政机关不再处理。",
        fields=(_NOTE,),
        preconditions=(g.applicant_deadline_passed,),
    ),
    TransitionSpec(
        "extend",
        "延期答复",
        (State.IN_REVIEW,),
        State.IN_REVIEW,
        APPROVERS,
        "批准延期日期",
        "《条例》第三十三条：需要延长答复期限的，应当经政府信息公开工作机构负责人同意并告知"
        "申请人，延长的期限最长不得超过20个工作日。延期由审核人本人批准记录；承办人提请审核。",
        fields=(
            PayloadField("days", "延长工作日数", "int", minimum=1, maximum=20, default=20),
            PayloadField("reason", "延期理由", "longtext"),
            PayloadField(
                "approver",
                "批准人（审核人）",
                "approver",
                required=False,
                help="由批准的审核人本人记录；承办人请提请审核",
            ),
            PayloadField(
                "late_reason",
                "逾期延期理由",
                "longtext",
                required=False,
                help="仅在答复期限届满后由审核人填写；逾期的延期不延长答复期限",
            ),
        ),
        preconditions=(g.once_only("extend", "延期答复只能一次，本申请已延期"),),
        payload_guards=(g.approver_named, cg.extension_in_time, cg.extension_within_limit),
    ),
    TransitionSpec(
        "request_reasons",
        "要求说明理由",
        (State.IN_REVIEW,),
        State.IN_REVIEW,
        DECIDERS,
        "发出说明理由告知日期",
        "《条例》第三十五条：申请人申请公开政府信息的数量、频次明显超过合理范围，行政机关可以"
        "要求申请人说明理由。答复期限不因此中止。",
        fields=(
            PayloadField(
                "matter",
                "申请数量、频次超过合理范围的情况",
                "longtext",
                help="写明申请人在何期间提出了多少件申请、内容如何重复，告知书原文照录",
            ),
            PayloadField("due_on", "说明理由的期限", "date"),
            _SENT_BY,
        ),
        preconditions=(
            g.once_only("request_reasons", "本次办理已要求申请人说明理由，不能重复要求"),
        ),
        payload_guards=(g.date_after_effective("due_on", "说明理由的期限应晚于告知日期"),),
    ),
    TransitionSpec(
        "reasons_received",
        "记录说明理由情况",
        (State.IN_REVIEW,),
        State.IN_REVIEW,
        DECIDERS,
        "认定日期",
        "《条例》第三十五条：行政机关认为申请理由不合理的，告知申请人不予处理；认为申请理由"
        "合理，但是无法在第三十三条规定的期限内答复的，可以确定延迟答复的合理期限并告知申请人。",
        fields=(
            PayloadField("finding", "认定", "choice", choices=pr.REASONS_FINDINGS),
            PayloadField("statement", "申请人说明的理由（摘要）", "longtext", required=False),
        ),
        preconditions=(pr.reasons_requested,),
        payload_guards=(pr.reasons_finding_in_time,),
    ),
    TransitionSpec(
        "defer_reply",
        "延迟答复",
        (State.IN_REVIEW,),
        State.IN_REVIEW,
        DECIDERS,
        "决定延迟答复日期",
        "《条例》第三十五条：申请理由合理，但是无法在第三十三条规定的期限内答复的，可以确定"
        "延迟答复的合理期限并告知申请人。",
        fields=(
            PayloadField(
                "days",
                "延迟的工作日数",
                "int",
                minimum=1,
                maximum=60,
                help="在原答复期限之后再延迟的工作日数，应与申请的数量相称",
            ),
            PayloadField("reason", "延迟答复的理由", "longtext"),
        ),
        preconditions=(
            pr.reasons_found_reasonable,
            g.once_only("defer_reply", "本次办理已确定延迟答复期限"),
        ),
        payload_guards=(pr.deferral_in_time,),
    ),
    TransitionSpec(
        "consult_third_party",
        "征求第三方意见",
        (State.IN_REVIEW,),
        State.THIRD_PARTY_CONSULTATION,
        DECIDERS,
        "发出征求意见日期",
        "《条例》第三十二条：公开可能损害第三方合法权益的，应当书面征求第三方意见，第三方应"
        "自收到之日起15个工作日内提出意见；征求意见所需时间不计算在答复期限内。",
        fields=(
            PayloadField("party", "第三方名称", "text"),
            PayloadField("matter", "征求意见事项", "longtext", required=False),
            _SENT_BY,
        ),
    ),
    TransitionSpec(
        "third_party_replied",
        "第三方回复",
        (State.THIRD_PARTY_CONSULTATION,),
        State.IN_REVIEW,
        DECIDERS,
        "收到回复日期",
        "第三方逾期未提出意见的，由行政机关依照《条例》规定决定是否公开。",
        fields=(PayloadField("opinion", "第三方意见", "choice", choices=OPINIONS), _NOTE),
        payload_guards=(cg.no_reply_after_deadline,),
    ),
    TransitionSpec(
        "notify_third_party",
        "书面告知第三方公开决定",
        (State.IN_REVIEW,),
        State.IN_REVIEW,
        DECIDERS,
        "告知日期",
        "《条例》第三十二条：第三方不同意公开，行政机关认为不公开可能对公共利益造成重大影响的，"
        "可以决定予以公开，并将决定公开的政府信息内容和理由书面告知第三方。",
        fields=(
            PayloadField("party", "第三方名称", "text"),
            PayloadField("content", "决定公开的政府信息内容", "longtext"),
            PayloadField("reason", "不公开可能对公共利益造成重大影响的理由", "longtext"),
            _SENT_BY,
        ),
        preconditions=(pr.third_party_objected,),
    ),
    TransitionSpec(
        "consult_agency",
        "征求相关机关意见",
        (State.IN_REVIEW,),
        State.AGENCY_CONSULTATION,
        DECIDERS,
        "发出征求意见日期",
        "《条例》第三十四条：由两个以上行政机关共同制作的，牵头机关可以征求相关行政机关意见，"
        "被征求意见机关应当自收到之日起15个工作日内提出意见，逾期未提出视为同意公开；"
        "所需时间不计算在答复期限内。",
        fields=(
            PayloadField("party", "被征求意见机关", "text"),
            PayloadField("matter", "征求意见事项", "longtext", required=False),
            _SENT_BY,
        ),
    ),
    TransitionSpec(
        "agency_replied",
        "相关机关回复",
        (State.AGENCY_CONSULTATION,),
        State.IN_REVIEW,
        DECIDERS,
        "收到回复日期",
        "被征求意见机关逾期未提出意见的，视为同意公开。",
        fields=(PayloadField("opinion", "相关机关意见", "choice", choices=OPINIONS), _NOTE),
        payload_guards=(cg.no_reply_after_deadline,),
    ),
    TransitionSpec(
        "issue_fee_notice",
        "发出收费通知",
        (State.IN_REVIEW,),
        State.AWAITING_FEE,
        DECIDERS,
        "发出收费通知日期",
        f"《条例》第四十二条及{FEE_MEASURES}：申请数量、频次明显超过合理范围的，可以收取"
        "信息处理费，按件计收的按同一申请人一个自然月内的申请件数分档累进，按量计收的按页数"
        "分档累进，金额由系统按收费标准计算；收费通知应当在答复期限内发出（2021年1月1日起）；"
        "申请人应自收到收费通知次日起20个工作日内缴纳，逾期未缴纳视为放弃；"
        "自发出收费通知至缴费之日不计算在答复期限内。",
        fields=(
            PayloadField("method", "计收方式", "choice", choices=FEE_METHODS),
            PayloadField(
                "pages",
                "拟提供信息的页数（按量计收）",
                "int",
                required=False,
                minimum=1,
                maximum=1_000_000,
                help="按量计收时必填，系统按页数分档计算收费金额",
            ),
            PayloadField(
                "units",
                "本申请计件数（按件计收）",
                "int",
                required=False,
                minimum=1,
                maximum=1_000,
                default=1,
                help="一件申请包含多项内容的，按合理的最小单位拆分计算件数；"
                "系统累计同一申请人本自然月内此前的申请件数后分档计算",
            ),
            PayloadField(
                "amount",
                "核对金额（元，可留空）",
                "int",
                required=False,
                minimum=1,
                maximum=10_000_000,
                help="收费金额由系统按收费标准计算；填写的，须与计算结果一致",
            ),
            _SENT_BY,
        ),
        payload_guards=(
            fr.fee_measures_in_force,
            fr.fee_notice_within_reply_period,
            fr.pages_for_per_page,
            fr.fee_follows_tariff,
        ),
    ),
    TransitionSpec(
        "fee_paid",
        "已缴费",
        (State.AWAITING_FEE,),
        State.IN_REVIEW,
        DECIDERS,
        "缴费日期",
        "申请人缴费后恢复计算答复期限。",
        fields=(_NOTE,),
    ),
    TransitionSpec(
        "reduce_fee",
        "减收信息处理费",
        (State.AWAITING_FEE,),
        State.AWAITING_FEE,
        DECIDERS,
        "减收决定日期",
        "行政机关决定减收信息处理费的，申请人按减收后的金额缴纳，缴费期限不变；"
        "减收须记明理由，记入办理记录。",
        fields=(
            PayloadField("amount", "减收后的金额（元）", "int", minimum=1, maximum=10_000_000),
            PayloadField("reason", "减收理由", "longtext"),
        ),
        payload_guards=(fr.reduction_below_owed,),
    ),
    TransitionSpec(
        "waive_fee",
        "免收信息处理费",
        (State.AWAITING_FEE,),
        State.IN_REVIEW,
        DECIDERS,
        "免收决定日期",
        "行政机关决定免收信息处理费的，视同已缴费，恢复计算答复期限；免收须记明理由，"
        "记入办理记录。",
        fields=(PayloadField("reason", "免收理由", "longtext"),),
    ),
    TransitionSpec(
        "fee_lapsed",
        "逾期未缴费",
        (State.AWAITING_FEE,),
        State.CONCLUDED,
        DECIDERS,
        "认定逾期日期",
        "申请人逾期未按收费通知要求缴纳费用的，行政机关不再处理该申请。",
        fields=(_NOTE,),
        preconditions=(g.fee_deadline_passed,),
    ),
    TransitionSpec(
        "decide",
        "作出答复",
        (State.IN_REVIEW,),
        State.CONCLUDED,
        DECIDERS,
        "答复日期",
        "《条例》第三十三条：应当自收到申请之日起20个工作日内予以答复；答复应载明依据、理由"
        "和救济途径（第五十一条）。区分处理的只计部分公开。",
        fields=(
            *DECIDE_FIELDS,
            PayloadField(
                "earlier",
                "在先申请（重复申请时）",
                "text",
                required=False,
                help="处理结果为“重复申请”时必填：本申请人已获答复的在先申请编号，答复书将引用该申请及其答复",
            ),
            pr.REFERRED_TO,
        ),
        payload_guards=(
            g.outcome_decidable,
            g.decision_facts_present,
            g.still_unclear_after_supplement,
            g.on_the_spot_same_day,
            g.duplicate_cites_earlier,
            pr.excessive_needs_recorded_reasons,
            pr.petition_names_the_referral,
        ),
    ),
    TransitionSpec(
        "answer_on_the_spot",
        "当场答复",
        (State.REGISTERED,),
        State.CONCLUDED,
        DECIDERS,
        "答复日期",
        "《条例》第三十三条第一款：行政机关收到政府信息公开申请，能够当场答复的，应当当场予以"
        "答复；答复应载明依据、理由和救济途径。",
        fields=(
            *(f for f in DECIDE_FIELDS if f.name != "delivery"),
            pr.REFERRED_TO,
        ),
        payload_guards=(
            pr.on_the_day_received,
            g.outcome_decidable,
            g.decision_facts_present,
            pr.excessive_needs_recorded_reasons,
            pr.petition_names_the_referral,
        ),
    ),
    TransitionSpec(
        "withdraw",
        "申请人撤回",
        _OPEN,
        State.CONCLUDED,
        CASEWORKERS,
        "撤回日期",
        "申请人撤回申请的，终止办理，计入“其他处理”。",
        fields=(PayloadField("reason", "撤回说明", "text", required=False),),
    ),
    TransitionSpec(
        "reopen",
        "重新办理",
        (State.CONCLUDED,),
        State.IN_REVIEW,
        frozenset({"legal", "approver"}),
        "重新办理日期",
        "复议机关或人民法院责令重新答复的，重新办理；不重复计入年度统计。",
        fields=(
            PayloadField("order", "依据（复议决定书或判决书）", "text"),
            PayloadField("due_on", "决定书要求的答复期限", "date", required=False),
        ),
    ),
    TransitionSpec(
        "reopen_undone",
        "撤销重新办理",
        tuple(s for s in _OPEN if s is not State.REGISTERED),  # a reopen goes to review
        State.CONCLUDED,
        frozenset({"legal", "approver"}),
        "撤销日期",
        "责令重新答复的决定或判决被上级人民法院撤销、改判（或原判被发回重审）的，重新办理随之"
        "撤销，申请回到原办结状态、原答复继续有效（《行政诉讼法》第八十九条、第九十三条）；"
        "重新办理中已作出新答复的，新答复继续有效，不撤销。",
        fields=(PayloadField("reversed_by", "撤销依据（上级法院的裁判文书）", "text"),),
        preconditions=(pr.in_reopened_procedure,),
    ),
    TransitionSpec(
        "void",
        "作废",
        tuple(s for s in STORED_STATES if s is not State.VOIDED),
        State.VOIDED,
        frozenset({"approver", "admin"}),
        "作废日期",
        "登记错误的申请作废后不计入任何统计，但记录永久保留。",
        fields=(PayloadField("reason", "作废原因", "text"),),
    ),
)

SPEC_BY_TRIGGER: dict[str, TransitionSpec] = {t.trigger: t for t in TRANSITIONS}
TRIGGER_LABELS: dict[str, str] = {t.trigger: t.label for t in TRANSITIONS}
#: What a handler proposes an extension with (提请延期, docs/domain.md §15): the ``extend``
#: step's fields without the approver (approving is the approver's own act) and without
#: the late reason (the step is recorded on the approval day). The page, the API and the
#: OpenAPI document read this one list.
EXTENSION_PROPOSAL_FIELDS: tuple[PayloadField, ...] = tuple(
    f for f in SPEC_BY_TRIGGER["extend"].fields if f.kind != "approver" and f.name != "late_reason"
)

# The trigger sets the clocks and the counting rules act on, read off the table above so
# that a new row is classified by where it goes, never by a second hand-kept list.

#: Triggers that put a reopened request back to the conclusion it had (the order that
#: reopened it was reversed): concluded again, but no new conclusion (no outcome of its
#: own, never counted), so not among the concluding triggers.
RESTORING_TRIGGERS: frozenset[str] = frozenset({"reopen_undone"})
#: Triggers that conclude an open request (a decision, a withdrawal, a lapse).
CONCLUDING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger
    for t in TRANSITIONS
    if t.dest is State.CONCLUDED
    and not set(t.sources) - OPEN_STATES
    and t.trigger not in RESTORING_TRIGGERS
)
#: Triggers that stop the reply clock: into a paused state from a running one.
PAUSING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger for t in TRANSITIONS if t.dest in PAUSED_STATES and not set(t.sources) & PAUSED_STATES
)
#: Triggers that let a stopped clock run again: out of a paused state into review.
RESUMING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger for t in TRANSITIONS if set(t.sources) <= PAUSED_STATES and t.dest is State.IN_REVIEW
)
#: Triggers that start the reply clock afresh: back into review after the applicant's
#: supplement or after a conclusion (a new procedure ordered by a reconsideration or court).
#: Triggers whose event states the agency's decision on the request (an outcome chosen
#: by staff): the reply, the remedies and the statistics read the latest of them.
DECISION_TRIGGERS: frozenset[str] = frozenset(
    t.trigger for t in TRANSITIONS if any(f.kind == "outcome" for f in t.fields)
)
RESTARTING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger
    for t in TRANSITIONS
    if t.dest is State.IN_REVIEW and set(t.sources) <= {State.SUPPLEMENT_REQUESTED, State.CONCLUDED}
)
