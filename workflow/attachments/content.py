"""Which accepted file type some bytes are, read from the bytes (magic numbers).

The name and the content type a browser sends are the uploader's claim; a page saved as
"scan.pdf" is still HTML, and served as what it claims it could run script in a
colleague's browser. So the type is decided here from the content only, and the file is
later served under the content type of the type found (``FileType.content_type``).

Zip-based formats are told apart by their entries (OOXML by ``[Content_Types].xml`` and
its part folder, OpenDocument by its ``mimetype`` entry, OFD by ``OFD.xml``), read from
the zip's directory without extracting anything.
"""

from __future__ import annotations

import io
import zipfile

from workflow.catalog.attachments import FILE_TYPE_BY_CODE, FileType

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
)
_ZIP = b"PK\x03\x04"
_OOXML_PARTS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
_ODF = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


def _zip_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    return _ODF.get(archive.read(info).strip())
            if "OFD.xml" in names:
                return "ofd"
            if "[Content_Types].xml" in names:
                for prefix, code in _OOXML_PARTS:
                    if any(n.startswith(prefix) for n in names):
                        return code
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, NotImplementedError):
        return None
    return None


def sniff(data: bytes) -> FileType | None:
    """The accepted type ``data`` is, or None (anything else: HTML, scripts, archives …)."""
    for magic, code in _SIGNATURES:
        if data.startswith(magic):
            return FILE_TYPE_BY_CODE[code]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FILE_TYPE_BY_CODE["webp"]
    if data.startswith(_ZIP):
        code = _zip_type(data)
        return FILE_TYPE_BY_CODE[code] if code else None
    return None
