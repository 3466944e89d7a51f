"""Producers of host-down notifications: the OCF resource agent, the alert agent, the CLI."""
