"""The registration form's fields and the checks that stop common intake mistakes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.catalog.applicants import APPLICANT_KINDS
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
    if values.get("id_type") == "resident_id" and values.get("id_number"):
        problem = resident_id_problem(values["id_number"])
        if problem:
            errors["id_number"] = problem
        else:
            values["id_number"] = values["id_number"].upper()
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = "电子邮箱格式不正确"
    return values
