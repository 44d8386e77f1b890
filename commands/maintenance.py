"""Placeholder module: its commands are being written (see the open issue)."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
