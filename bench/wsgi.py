"""The WSGI app the HTTP benchmarks load into gunicorn: ``gunicorn bench.wsgi:app``.

Configured from the environment only: ``DATABASE_URL`` (required) and
``GONGKAI_SECRET_KEY`` (shared by every worker, so a session cookie obtained from one
worker is honoured by the others; a fixed bench key if unset).

CSRF protection is switched off *in this bench app only* so a load generator can POST
forms without scraping a token per request; the real app (``app.create_app`` as served by
``python app.py serve`` or a production gunicorn) keeps it on. Bind it to 127.0.0.1.
"""

from __future__ import annotations

import os

from app import create_app

app = create_app(
    {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "SECRET_KEY": os.environ.get("GONGKAI_SECRET_KEY", "bench-only-secret-key"),
        "WTF_CSRF_ENABLED": False,
    }
)
