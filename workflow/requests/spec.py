"""The request lifecycle (docs/domain.md §3) as data: one row per trigger.

Each row names its sources, destination, the roles that may fire it, the payload it asks
for (which the action form renders field by field), the legal rule it applies (shown on
the form) and its guards. The machine, the action buttons, the forms, the timeline and
the generated diagram in ``docs/`` all read this table.
"""

from __future__ import annotations

from workflow.catalog.outcomes import DECISION_FACT_BY_FIELD
from workflow.catalog.service import DELIVERY_LABELS
from workflow.catalog.states import OPEN_STATES, PAUSED_STATES, STORED_STATES, State
from workflow.kernel import guards as g
from workflow.kernel.lifecycle import FieldKind, PayloadField, TransitionSpec
from workflow.requests import clock_guards as cg

CLERKS = frozenset({"registrar", "handler"})
CASEWORKERS = frozenset({"registrar", "handler", "approver"})
DECIDERS = frozenset({"handler", "approver"})

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
FEE_METHODS = (("per_request", "按件计收"), ("per_page", "按量计收"))
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
        DECIDERS,
        "批准延期日期",
        "《条例》第三十三条：需要延长答复期限的，应当经政府信息公开工作机构负责人同意并告知"
        "申请人，延长的期限最长不得超过20个工作日。",
        fields=(
            PayloadField("days", "延长工作日数", "int", minimum=1, maximum=20, default=20),
            PayloadField("reason", "延期理由", "longtext"),
            PayloadField("approver", "批准人（审核人）", "approver"),
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
        "《条例》第四十二条及《政府信息公开信息处理费管理办法》：申请数量、频次明显超过合理"
        "范围的，可以收取信息处理费；申请人应自收到收费通知次日起20个工作日内缴纳，逾期未缴纳视为放弃；"
        "自发出收费通知至缴费之日不计算在答复期限内。",
        fields=(
            PayloadField("method", "计收方式", "choice", choices=FEE_METHODS),
            PayloadField("amount", "收费金额（元）", "int", minimum=1, maximum=10_000_000),
            _SENT_BY,
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
        fields=DECIDE_FIELDS,
        payload_guards=(
            g.outcome_decidable,
            g.decision_facts_present,
            g.still_unclear_after_supplement,
            g.on_the_spot_same_day,
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

# The trigger sets the clocks and the counting rules act on, read off the table above so
# that a new row is classified by where it goes, never by a second hand-kept list.

#: Triggers that conclude an open request (a decision, a withdrawal, a lapse).
CONCLUDING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger for t in TRANSITIONS if t.dest is State.CONCLUDED and not set(t.sources) - OPEN_STATES
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
RESTARTING_TRIGGERS: frozenset[str] = frozenset(
    t.trigger
    for t in TRANSITIONS
    if t.dest is State.IN_REVIEW and set(t.sources) <= {State.SUPPLEMENT_REQUESTED, State.CONCLUDED}
)
