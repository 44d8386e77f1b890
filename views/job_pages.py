"""What every background job's page shares: who may see a job, and its cancel button.

A job is visible to the user who started it and to users of its agency or an agency
above it; anything else is "not found" (404), as for requests.
"""

from __future__ import annotations

from flask import abort, flash, redirect
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from jobs.queue import JobRecord, load, request_cancel
from views.access import visible_agency_ids


class CancelForm(FlaskForm):
    """The cancel button: a form for its CSRF token."""


def visible_job(job_id: str, kind: str) -> JobRecord:
    """The job of ``kind``, if the signed-in user may see it; else 404."""
    record = load(job_id) if job_id.isalnum() else None
    if (
        record is None
        or record.kind != kind
        or (
            record.user_id != current_user.id
            and record.agency_id not in visible_agency_ids(current_user)
        )
    ):
        abort(404)
    return record


def stop_job(record: JobRecord, page_url: str, done: str) -> Response:
    """Ask a running job to stop (it rolls back), then back to its page."""
    if CancelForm().validate_on_submit() and not record.finished_state:
        request_cancel(record.id)
        flash(done, "success")
    return redirect(page_url, 303)
