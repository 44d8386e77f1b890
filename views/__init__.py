"""Thin Flask blueprints: parse input, check access, call one operation, commit once.

Nothing in here decides what the law allows; that is ``workflow``'s job. The views only
translate between HTTP forms and the domain's plain values and Chinese error messages.
"""
