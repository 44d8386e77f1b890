"""The checks every uploaded file passes before anything is stored
(``workflow.attachments.uploads``): names, emptiness, size, type, count and total."""

from __future__ import annotations

import pytest

from workflow.attachments.uploads import (
    Upload,
    UploadLimits,
    check_uploads,
    name_problem,
    safe_file_name,
)

PDF = b"%PDF-1.7\n%%EOF\n"
LIMITS = UploadLimits(max_bytes=100, max_files=2, max_total_bytes=120)


def upload(name: str = "a.pdf", data: bytes = PDF, field: str = "files") -> Upload:
    return Upload(field, "other", name, data)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../a.pdf", "路径分隔符"),
        ("C:\\a.pdf", "路径分隔符"),
        ("a\u202efdp.exe", "改变文字方向"),
        ("a\u2067.pdf", "改变文字方向"),
        ("a\x00.pdf", "控制字符"),
        ("长" * 201, "文件名过长"),
    ],
)
def test_a_name_the_public_sends_must_be_a_plain_file_name(name: str, words: str) -> None:
    problem = name_problem(name)
    assert problem is not None and words in problem
    assert "\u202e" not in problem and "\x00" not in problem


def test_plain_names_pass_and_staff_names_are_cleaned() -> None:
    assert name_problem("申请书（第1页）.pdf") is None
    assert safe_file_name("x/y/申请\u202e书.pdf", ".pdf") == "申请书.pdf"
    assert safe_file_name("\u202e", ".pdf") == "附件.pdf"


def test_every_problem_is_reported_per_field_and_nothing_passes_with_them() -> None:
    checked, errors = check_uploads(
        [
            upload("好.pdf", field="one"),
            upload("空.pdf", b"", field="two"),
            upload("网页.pdf", b"<html>", field="two"),
            upload("大.pdf", PDF + b"0" * 100, field="three"),
        ],
        LIMITS,
    )
    assert [c.name for c in checked] == ["好.pdf"]  # the caller stores nothing: errors
    assert set(errors) == {"two", "three"}
    assert "文件不能为空" in errors["two"] and "不支持此文件类型" in errors["two"]
    assert "单个附件不能超过" in errors["three"] and "一次最多上传2个文件" in errors["two"]
    assert "合计过大" in errors["three"]


def test_a_nameless_empty_part_is_no_file() -> None:
    checked, errors = check_uploads([upload("", b""), upload("a.pdf")], LIMITS)
    assert errors == {} and [c.file_type.code for c in checked] == ["pdf"]


def test_the_type_is_the_contents_not_the_names() -> None:
    checked, errors = check_uploads([upload("scan.jpg", PDF)], LIMITS)
    assert errors == {} and checked[0].file_type.code == "pdf" and checked[0].name == "scan.jpg"
