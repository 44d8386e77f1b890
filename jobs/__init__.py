"""Background jobs: long work (a whole ledger's import …) outside the web request.

A real job queue (huey): embedded by default (SQLite storage under ``instance/``, no
extra server, run by ``python app.py worker``), on Redis when ``GONGKAI_REDIS_URL`` is
set (any number of worker processes on any number of machines). Like ``commands/``, a
job only parses what it was given and calls the domain; each runs in its own unit of
work, all or nothing.
"""
