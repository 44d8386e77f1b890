"""The pure parts of the admin operations: reading a holiday notice typed into a textarea."""

from __future__ import annotations

from datetime import date

from workflow.admin.operations import MAX_RANGE_DAYS, day_lines, parse_day_lines, role_labels


def test_single_days_and_ranges_in_every_accepted_spelling() -> None:
    text = "2027-01-01\n\n2027-02-05~2027-02-07\n 2027-05-01 至 2027-05-02 \n2027-10-01～2027-10-01"
    days, problems = parse_day_lines(text)
    assert problems == []
    assert [d for _, d in days] == [
        date(2027, 1, 1),
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 10, 1),
    ]
    # Line numbers count blank lines too, as the textarea shows them.
    assert [n for n, _ in days] == [1, 3, 3, 3, 4, 4, 5]


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = "\n".join(
        [
            "2027-01-01",
            "2027-02-30",
            "2027-02-11~2027-02-05",
            "2027-01-01~2027-03-01",
            "2027-01-01~",
            "下周一",
            "2027-01-01~2027-01-02~2027-01-03",
        ]
    )
    days, problems = parse_day_lines(text)
    assert [n for n, _ in problems] == [2, 3, 4, 5, 6, 7]
    assert "不是有效日期" in problems[0][1]
    assert "早于" in problems[1][1]
    assert str(MAX_RANGE_DAYS) in problems[2][1]
    assert [d for _, d in days] == [date(2027, 1, 1)]


def test_day_lines_folds_runs_and_reads_back_the_same() -> None:
    days = [date(2027, 2, d) for d in (5, 6, 7, 8, 13)] + [date(2027, 1, 1)]
    text = day_lines(days)
    assert text == "2027-01-01\n2027-02-05~2027-02-08\n2027-02-13"
    parsed, problems = parse_day_lines(text)
    assert problems == [] and sorted(d for _, d in parsed) == sorted(days)


def test_role_labels_follow_the_catalogue_order() -> None:
    assert role_labels({"admin", "registrar"}) == ["登记员", "管理员"]
    assert role_labels({"ghost"}) == ["ghost"]
