"""Placeholder blueprint: its pages are being written (see the open issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__)
