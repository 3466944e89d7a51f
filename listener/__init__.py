"""The host-recovery listener daemon and operator commands (runs on every controller)."""
