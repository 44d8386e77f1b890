"""Attachments (附件): scans and documents kept with a request, stored once by content hash."""
