"""The registration form's fields and the checks that stop common intake mistakes.

Art. 29 para 2 lists what an application contains: the applicant's name, **proof of
identity** and contact details; a description of the information; the form wanted. A
number whose check character is wrong (居民身份证 GB 11643, 统一社会信用代码 GB 32100) is
refused at once; an element that is simply missing is not a reason to refuse the
registration (the receipt date still counts), so :func:`missing_elements` names it and
the request page proposes a 补正 (Art. 30) for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.catalog.applicants import APPLICANT_KINDS, KIND_BY_CODE
from workflow.catalog.channels import CHANNEL_BY_CODE, CHANNELS, DEFAULT_CHANNEL
from workflow.kernel.errors import ValidationError
from workflow.kernel.lifecycle import PayloadField
from workflow.kernel.payload import parse_fields

ID_TYPES = (
    ("resident_id", "居民身份证"),
    ("passport", "护照"),
    ("credit_code", "统一社会信用代码"),
    ("other", "其他证件"),
)
FORMS_WANTED = (("paper", "纸质"), ("electronic", "电子"), ("viewing", "当场查阅"))
DELIVERIES_WANTED = (
    ("post", "邮寄"),
    ("email", "电子邮件"),
    ("in_person", "当面领取"),
    ("online", "网上获取"),
)

INTAKE_FIELDS: tuple[PayloadField, ...] = (
    PayloadField("applicant_name", "申请人姓名或名称", "text"),
    PayloadField(
        "applicant_kind",
        "申请人类型",
        "choice",
        choices=tuple((k.code, k.label) for k in APPLICANT_KINDS),
    ),
    PayloadField("id_type", "证件类型", "choice", required=False, choices=ID_TYPES),
    PayloadField("id_number", "证件号码", "text", required=False),
    PayloadField(
        "legal_representative",
        "法定代表人或负责人（法人或其他组织）",
        "text",
        required=False,
    ),
    PayloadField(
        "contact_person",
        "联系人（法人或其他组织）",
        "text",
        required=False,
        help="法人或其他组织申请的，写明联系人或法定代表人，以便联系和送达",
    ),
    PayloadField("phone", "联系电话", "text", required=False),
    PayloadField("email", "电子邮箱", "text", required=False),
    PayloadField("address", "通信地址", "text", required=False),
    PayloadField("subject", "所需信息的内容描述", "longtext"),
    PayloadField("doc_numbers", "文件名称、文号或其他特征描述", "text", required=False),
    PayloadField("form_wanted", "获取信息的方式", "choice", required=False, choices=FORMS_WANTED),
    PayloadField(
        "delivery_wanted", "送达方式", "choice", required=False, choices=DELIVERIES_WANTED
    ),
    PayloadField(
        "channel",
        "提交方式",
        "choice",
        choices=tuple((c.code, c.label) for c in CHANNELS),
        default=DEFAULT_CHANNEL,
    ),
    PayloadField("submitted_on", "提交日期", "date"),
    PayloadField(
        "received_on",
        "收到申请日期（法定）",
        "date",
        required=False,
        help="当面提交的为提交当日；邮寄的为签收之日；平常信函、网上、传真的为双方确认之日；"
        "12345热线或平台转办的为本机关收到转办之日。留空时按提交方式推定。",
    ),
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_problem(number: str) -> str | None:
    """Check a 18-digit resident ID (GB 11643): format, birth date and check digit."""
    value = number.strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return "居民身份证号码应为18位，前17位为数字，最后一位为数字或X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "居民身份证号码中的出生日期无效"
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return "居民身份证号码校验位不正确，请核对"
    return None


#: GB 32100-2015: the 31 characters of a 统一社会信用代码 (no I, O, S, V, Z) and the
#: weights of its first 17 positions (3^i mod 31).
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_problem(code: str) -> str | None:
    """Check a 18-character 统一社会信用代码 (GB 32100): characters and check character."""
    value = code.strip().upper()
    if len(value) != 18 or any(c not in _CREDIT_CHARS for c in value):
        return "统一社会信用代码应为18位，由数字和大写英文字母组成（不使用I、O、S、V、Z），请核对"
    total = sum(
        _CREDIT_CHARS.index(c) * w for c, w in zip(value[:17], _CREDIT_WEIGHTS, strict=True)
    )
    if _CREDIT_CHARS[(31 - total % 31) % 31] != value[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None


#: The elements of Art. 29 para 2 (一) a registration may lack, with what a 补正 asks for.
PROOF_OF_IDENTITY = "申请人的身份证明（证件类型及号码，《条例》第二十九条第二款第一项）"
CONTACT = "申请人的联系方式（联系电话、电子邮箱或通信地址，《条例》第二十九条第二款第一项）"
ORGANISATION_CONTACT = "法人或其他组织的联系人或法定代表人"


def missing_elements(values: Mapping[str, Any]) -> tuple[str, ...]:
    """What the application lacks of Art. 29 para 2 (一): each a 补正 item to propose."""
    missing = []
    if not str(values.get("id_number") or "").strip():
        missing.append(PROOF_OF_IDENTITY)
    if not any(str(values.get(k) or "").strip() for k in ("phone", "email", "address")):
        missing.append(CONTACT)
    kind = KIND_BY_CODE.get(str(values.get("applicant_kind") or ""))
    if kind is not None and kind.is_organisation:
        named = (values.get("contact_person"), values.get("legal_representative"))
        if not any(str(v or "").strip() for v in named):
            missing.append(ORGANISATION_CONTACT)
    return tuple(missing)


def supplement_proposal(values: Mapping[str, Any]) -> str | None:
    """The 补正 items the request page proposes for an incomplete application, if any."""
    missing = missing_elements(values)
    if not missing:
        return None
    return "请补充：" + "；".join(missing) + "。"


@dataclass(frozen=True)
class Intake:
    values: dict[str, Any]
    submitted_on: date
    received_on: date
    #: Explanation of how the receipt date was fixed (shown to the clerk).
    receipt_note: str


def parse_intake(raw: Mapping[str, Any], today: date) -> Intake:
    """Validate a registration; fix the legal receipt date from the channel (Art. 31)."""
    errors: dict[str, str] = {}
    values = parse_intake_values(raw, errors)
    submitted = date.fromisoformat(values["submitted_on"]) if "submitted_on" in values else None
    channel = CHANNEL_BY_CODE.get(values.get("channel", DEFAULT_CHANNEL))
    received = date.fromisoformat(values["received_on"]) if "received_on" in values else None
    if submitted and submitted > today:
        errors["submitted_on"] = "提交日期不能晚于今天"
    if submitted and channel and received is None:
        # A transfer reaches the agency today; anything else is presumed received on the
        # day it was submitted (the clerk corrects it for post and letters).
        received = today if channel.transfer else submitted
    on_the_day = channel is not None and channel.receipt_is_submission_day
    if on_the_day and received and submitted and received != submitted:
        errors["received_on"] = "当面提交的，收到申请日期即为提交当日"
    if received and submitted and received < submitted:
        errors["received_on"] = "收到申请日期不能早于提交日期"
    if received and received > today:
        errors["received_on"] = "收到申请日期不能晚于今天"
    if errors or submitted is None or received is None or channel is None:
        raise ValidationError("请更正标出的内容", errors)
    return Intake(values, submitted, received, channel.receipt_rule)


def parse_intake_values(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    values = parse_fields(INTAKE_FIELDS, raw, errors)
    check = _ID_CHECKS.get(values.get("id_type", ""))
    if check is not None and values.get("id_number"):
        problem = check(values["id_number"])
        if problem:
            errors["id_number"] = problem
        else:
            values["id_number"] = values["id_number"].strip().upper()
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = "电子邮箱格式不正确"
    return values


#: The ID types whose numbers carry a check character the system verifies.
_ID_CHECKS = {"resident_id": resident_id_problem, "credit_code": credit_code_problem}
