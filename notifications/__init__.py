"""The wire contract of host-recovery.

Host-down payloads (schema, validation, signature), the confirmed publisher agents use,
parsers for Nova's versioned notifications and our own recovery notifications.
"""
