"""Sample host-down messages (package data).

Signed samples use the signing key "sample-signing-key".
"""
