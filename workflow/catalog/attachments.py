"""What an office keeps on file for a request (issue 15 item 5): the kinds of attachment,
each with the reason it is kept, and the file types accepted.

Kinds are data, like the rest of the catalogue: a kind names the fact it proves and the
rule behind it, so the upload form can say why a clerk scans an envelope. The file types
are recognised by their content (magic bytes, ``workflow.attachments.content``), never by
the name a browser sends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttachmentKind:
    code: str
    label: str
    #: Why it is kept: the fact it proves, with its source where the law gives one.
    reason: str


ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = (
    AttachmentKind(
        "application",
        "申请书扫描件",
        "《条例》第二十九条：申请人提出申请应当采用包括信件、数据电文在内的书面形式，申请书是申请内容的依据。",
    ),
    AttachmentKind(
        "id_copy",
        "身份证明复印件",
        "《条例》第二十九条第二款第（一）项：申请书应当包括申请人的姓名或者名称、身份证明、联系方式。",
    ),
    AttachmentKind(
        "envelope",
        "信封或邮戳",
        "《条例》第三十一条第（二）项：以邮寄方式提交申请的，以行政机关签收之日为收到申请之日；"
        "信封和邮戳证明交邮与签收日期。",
    ),
    AttachmentKind(
        "supplement",
        "补正材料",
        "《条例》第三十条：申请内容不明确的，申请人应当在规定期限内补正；补正材料证明补正的内容与收到日期。",
    ),
    AttachmentKind(
        "delivery_receipt",
        "送达回证或邮寄回执",
        "复议和诉讼期限自申请人知道答复之日起计算（《行政复议法》第二十条、《行政诉讼法》第四十六条），"
        "送达回证或邮寄回执证明送达日期。",
    ),
    AttachmentKind(
        "other",
        "其他材料",
        "《条例》第四十五条：行政机关应当建立健全申请登记、审核、办理、答复、归档的工作制度。",
    ),
)
ATTACHMENT_KIND_BY_CODE: dict[str, AttachmentKind] = {k.code: k for k in ATTACHMENT_KINDS}
ATTACHMENT_KIND_CODES: tuple[str, ...] = tuple(ATTACHMENT_KIND_BY_CODE)


@dataclass(frozen=True)
class FileType:
    """A file type accepted, with the content type and extension it is served under."""

    code: str
    label: str
    content_type: str
    extension: str


FILE_TYPES: tuple[FileType, ...] = (
    FileType("pdf", "PDF", "application/pdf", ".pdf"),
    FileType("ofd", "OFD 版式文件", "application/ofd", ".ofd"),
    FileType("jpeg", "JPEG 图片", "image/jpeg", ".jpg"),
    FileType("png", "PNG 图片", "image/png", ".png"),
    FileType("gif", "GIF 图片", "image/gif", ".gif"),
    FileType("tiff", "TIFF 图片", "image/tiff", ".tif"),
    FileType("webp", "WebP 图片", "image/webp", ".webp"),
    FileType(
        "docx",
        "Word 文档",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    FileType(
        "xlsx",
        "Excel 表格",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
    ),
    FileType(
        "pptx",
        "PowerPoint 演示文稿",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
    FileType("odt", "OpenDocument 文本", "application/vnd.oasis.opendocument.text", ".odt"),
    FileType("ods", "OpenDocument 表格", "application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    # Word/Excel/WPS 97–2003: one container format; served as bytes under its own name.
    FileType("ole", "Office 97-2003 / WPS 文档", "application/octet-stream", ".doc"),
)
FILE_TYPE_BY_CODE: dict[str, FileType] = {t.code: t for t in FILE_TYPES}
FILE_TYPE_CODES: tuple[str, ...] = tuple(FILE_TYPE_BY_CODE)
ACCEPTED_TYPES_LABEL = (
    "PDF、OFD、图片（JPEG、PNG、GIF、TIFF、WebP）"
    "和办公文档（Word、Excel、PowerPoint、WPS、OpenDocument）"
)
#: What an applicant may send with an online application (one file input each), and
#: what a 补正 answered online is filed as. The labels and reasons are the kinds' own.
PORTAL_APPLICATION_KINDS: tuple[str, ...] = ("application", "id_copy", "other")
PORTAL_SUPPLEMENT_KIND = "supplement"
