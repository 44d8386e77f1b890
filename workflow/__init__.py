"""The Gongkai domain: state machine, legal clocks, catalogue and statistics.

Nothing in this package imports Flask or opens a database connection by itself;
callers pass the session, the actor and ``now`` explicitly.
"""
