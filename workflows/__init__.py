"""The Mistral workflow definitions, shipped as package data and synced by the listener."""
