"""条例 Art. 44 candidates, the pure part: who counts as one applicant, and which requests
ask for the same information (workflow.requests.similar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflow.requests.similar import (
    applicant_groups,
    count_applicants,
    group_information,
)


@dataclass
class Item:
    subject: str
    applicant_name: str
    id_number: str = ""
    phone: str = ""
    received_on: date = date(2026, 3, 1)


SUBJECT = "本县2025年度城市供水价格调整听证材料"


def test_the_same_id_number_or_name_and_phone_is_one_applicant() -> None:
    items = [
        Item(SUBJECT, "张三", id_number="11010519491231002X"),
        Item(SUBJECT, "张三丰", id_number="11010519491231002x"),  # same ID, any name
        Item(SUBJECT, "李四", phone="138-0000-0000"),
        Item(SUBJECT, "李四", phone="13800000000"),  # same name and phone
        Item(SUBJECT, "李四", phone="13900000000"),  # a namesake with another phone
        Item(SUBJECT, "王五"),
        Item(SUBJECT, "王五"),  # no ID, no phone: the name alone (never more than there are)
    ]
    assert count_applicants(items) == 4
    groups = applicant_groups(items)
    assert groups[0] == groups[1] and groups[2] == groups[3] != groups[4]


def test_one_applicant_is_linked_through_id_and_phone_transitively() -> None:
    items = [
        Item(SUBJECT, "赵六", id_number="A1"),
        Item(SUBJECT, "赵六", id_number="A1", phone="1"),
        Item(SUBJECT, "赵六", phone="1"),
    ]
    assert count_applicants(items) == 1


def test_alike_subjects_of_enough_applicants_are_a_candidate() -> None:
    items = [
        Item(SUBJECT, "甲", received_on=date(2026, 1, 5)),
        Item("2025年度本县城市供水价格调整的听证材料", "乙", received_on=date(2026, 2, 1)),
        Item("本县2025年度城市供水价格调整听证会材料", "丙", received_on=date(2026, 3, 1)),
        Item("某路段改造工程预算", "丁"),
        Item("某路段改造工程预算", "丁"),
    ]
    [group] = group_information(items, 3)
    assert group.applicants == 3 and group.subject == SUBJECT
    assert (group.first_on, group.last_on) == (date(2026, 1, 5), date(2026, 3, 1))
    # One applicant asking twice is not "several applicants".
    assert [g.subject for g in group_information(items, 2)] == [SUBJECT]
    assert group_information(items, 4) == []


def test_unrelated_subjects_are_not_grouped() -> None:
    items = [Item(f"第{i}号文件：{s}", str(i)) for i, s in enumerate(["征收补偿", "环评批复"])]
    assert group_information(items, 2) == []
