"""Checking uploaded files before anything is stored (pure: no database, no store).

One set of checks for every way a file arrives, so a staff upload and an applicant's
upload on the portal are held to the same rules (docs/domain.md §16 and §11.6.1):

* a file must not be empty, nor larger than the deployment's per-file limit
  (``GONGKAI_ATTACHMENT_MAX_MB``);
* its type is found from its content (``workflow.attachments.content.sniff``), never
  from its name;
* a name sent by the public must be a plain file name: a browser sends only the last
  part of a path, so a name with a folder separator was made by hand, and bidirectional
  controls (U+202E …) exist to make "gpj.exe" read as "exe.jpg". Staff names are
  cleaned (``safe_file_name``), the public's are refused (:func:`name_problem`);
* the portal adds a count per submission and a total for the form
  (``GONGKAI_PORTAL_MAX_FILES``, ``GONGKAI_PORTAL_UPLOAD_MAX_MB``): :func:`check_uploads`.

Every problem is reported at once, per form field, and nothing is kept unless all pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from workflow.attachments.content import sniff
from workflow.catalog.attachments import ACCEPTED_TYPES_LABEL, FileType

MAX_NAME = 200
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]')
#: Bidirectional formatting characters (Unicode bidi controls): they reorder what is
#: displayed, so a name could show another extension than the one it has.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def safe_file_name(name: str, extension: str) -> str:
    """The uploaded name without folders, control, bidi or reserved characters, at most
    ``MAX_NAME`` characters; ``附件<ext>`` when nothing is left. Only ever displayed and
    offered as the download's name, never used as a path."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c not in BIDI_CONTROLS)
    base = _UNSAFE_NAME.sub("", base).strip(" .")
    return base[:MAX_NAME] or f"附件{extension}"


def name_problem(name: str) -> str | None:
    """Why a name sent by the public is refused (None when it is a plain file name)."""
    shown = "".join(c for c in name if c not in BIDI_CONTROLS and c.isprintable())[:60]
    if any(c in BIDI_CONTROLS for c in name):
        return f"文件名“{shown}”含有改变文字方向的控制字符，请重命名后再上传"
    if "/" in name or "\\" in name:
        return f"文件名“{shown}”含有路径分隔符（/ 或 \\），请只上传文件本身"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return f"文件名“{shown}”含有控制字符，请重命名后再上传"
    if len(name) > MAX_NAME:
        return f"文件名过长（不能超过{MAX_NAME}个字）"
    return None


def content_problem(data: bytes, max_bytes: int) -> tuple[FileType | None, str | None]:
    """The type ``data`` is, or why it is refused: empty, too large, not an accepted type."""
    if not data:
        return None, "文件不能为空"
    if len(data) > max_bytes:
        return None, (
            f"文件过大（{len(data) / 1048576:.1f} MB），单个附件不能超过 {max_bytes // 1048576} MB"
        )
    found = sniff(data)
    if found is None:
        return None, (
            f"不支持此文件类型（按文件内容识别，与文件名无关）。可上传：{ACCEPTED_TYPES_LABEL}"
        )
    return found, None


@dataclass(frozen=True)
class UploadLimits:
    """The deployment's limits for one form's files (built from ``settings``)."""

    #: Per file: the same as a staff upload.
    max_bytes: int
    #: Files in one submission.
    max_files: int
    #: All files of one submission together.
    max_total_bytes: int


@dataclass(frozen=True)
class Upload:
    """A file as the form sent it: which input (``field``), as what kind, name, bytes."""

    field: str
    kind: str
    name: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    field: str
    kind: str
    #: The name to keep: the one sent, made safe (it already passed :func:`name_problem`).
    name: str
    file_type: FileType
    data: bytes


def check_uploads(
    uploads: Sequence[Upload], limits: UploadLimits
) -> tuple[list[CheckedUpload], dict[str, str]]:
    """Every upload checked; the good ones and the problems per field (all or nothing is
    the caller's: it stores nothing while there is a problem).

    A file input left empty arrives as a part with no name and no bytes: it is no upload
    and is skipped here, not refused.
    """
    sent = [u for u in uploads if u.name or u.data]
    errors: dict[str, list[str]] = {}
    checked: list[CheckedUpload] = []
    for upload in sent:
        problem = name_problem(upload.name) if upload.name else "文件缺少文件名"
        file_type: FileType | None = None
        if problem is None:
            file_type, content = content_problem(upload.data, limits.max_bytes)
            problem = f"“{upload.name[:60]}”：{content}" if content else None
        if problem is not None or file_type is None:
            errors.setdefault(upload.field, []).append(problem or "")
            continue
        checked.append(
            CheckedUpload(
                upload.field,
                upload.kind,
                safe_file_name(upload.name, file_type.extension),
                file_type,
                upload.data,
            )
        )
    if len(sent) > limits.max_files:
        errors.setdefault(sent[limits.max_files].field, []).append(
            f"一次最多上传{limits.max_files}个文件（本次{len(sent)}个）"
        )
    total = sum(len(u.data) for u in sent)
    if total > limits.max_total_bytes:
        errors.setdefault(sent[-1].field, []).append(
            f"文件合计过大（{total / 1048576:.1f} MB），"
            f"一次提交的文件合计不能超过 {limits.max_total_bytes // 1048576} MB"
        )
    return checked, {field: "；".join(lines) for field, lines in errors.items()}
