"""Subcommands of ``host-recovery`` (one module each: ``register(subparsers)``)."""
