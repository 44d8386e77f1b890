"""Reference data of the domain, defined once and read by every consumer."""
