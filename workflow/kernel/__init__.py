"""The shared kernel: pure building blocks every feature stands on.

Errors with a clerk's message, the actor and the agency-local day, the lifecycle
machinery and its guards, the working calendar, payload parsing, safe CSV. Nothing here
touches the database or knows a feature; only ``workflow.catalog`` lies below.
"""
