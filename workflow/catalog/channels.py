"""Intake channels and how each fixes the legal receipt date (Art. 31, docs/domain.md §2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    code: str
    label: str
    receipt_rule: str
    #: True when the receipt date is the submission day itself (in person).
    receipt_is_submission_day: bool
    #: True for a case transferred from another system (the 12345 hotline, a government
    #: service platform): the applicant submitted it there, the agency receives it when
    #: the transfer arrives, so an unset receipt date is the day of arrival, not of
    #: submission (docs/domain.md §11.5).
    transfer: bool = False


CHANNELS: tuple[Channel, ...] = (
    Channel("in_person", "当面提交", "当面提交的，以提交之日为收到申请之日", True),
    Channel(
        "oral",
        "口头申请（工作人员代为填写）",
        "申请人采用书面形式确有困难、口头提出的，由工作人员代为填写申请并经申请人确认，"
        "以口头提出之日为收到申请之日（《条例》第二十九条第一款，参照当面提交）",
        True,
    ),
    Channel(
        "post",
        "邮寄（需签收）",
        "以邮寄方式提交的，以行政机关签收之日为收到申请之日",
        False,
    ),
    Channel(
        "letter",
        "平常信函（无需签收）",
        "以平常信函等无需签收的邮寄方式提交的，以双方确认之日为收到申请之日",
        False,
    ),
    Channel(
        "online",
        "互联网渠道（网站、电子邮件）",
        "通过互联网渠道提交的，以双方确认之日为收到申请之日",
        False,
    ),
    Channel("fax", "传真", "以传真方式提交的，以双方确认之日为收到申请之日", False),
    Channel(
        "portal",
        "网上平台（本机关申请平台）",
        "通过本机关网上申请平台提交的，以工作人员确认收到之日为收到申请之日"
        "（《条例》第三十一条第三项，双方确认之日）",
        False,
    ),
    Channel(
        "hotline_12345",
        "12345热线转办",
        "经12345政务服务便民热线转办的，以本机关收到转办之日为收到申请之日"
        "（《条例》第三十一条第三项，双方确认之日）",
        False,
        transfer=True,
    ),
    Channel(
        "platform",
        "政务服务平台转办",
        "经政务服务平台转办的，以本机关收到转办之日为收到申请之日"
        "（《条例》第三十一条第三项，双方确认之日）",
        False,
        transfer=True,
    ),
    Channel(
        "petition",
        "信访转办",
        "信访工作机构将属于政府信息公开申请的信访件转交本机关的，以本机关收到转办之日为"
        "收到申请之日（《条例》第三十一条第三项，双方确认之日）",
        False,
        transfer=True,
    ),
)

CHANNEL_BY_CODE: dict[str, Channel] = {c.code: c for c in CHANNELS}
TRANSFER_CHANNELS: tuple[str, ...] = tuple(c.code for c in CHANNELS if c.transfer)
DEFAULT_CHANNEL = "online"
