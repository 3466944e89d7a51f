"""JSON Schemas of the wire contract (package data)."""
