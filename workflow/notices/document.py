"""A notice as the domain hands it to a renderer: the port between issuing and printing.

Issuing a notice numbers it, fixes its wording's inputs and stores the rendered bytes
with their hash; the rendering itself (reportlab, ``documents.notices_pdf``) is supplied
by the caller, so the domain never imports a renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class NoticeDocument:
    """Everything printed on a notice besides the template's own wording."""

    agency_name: str
    number: str
    dated_on: date
    #: Template name under ``templates/notices`` without ``.txt``.
    template: str
    context: Mapping[str, Any]


#: Turns a notice into the bytes that are stored, hashed and served (a PDF).
NoticeRenderer = Callable[[NoticeDocument], bytes]
