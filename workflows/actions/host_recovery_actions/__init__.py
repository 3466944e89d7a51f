"""host-recovery's Mistral actions (mistral-lib), registered under ``mistral.actions``."""

# Bumped whenever an action's input or output changes: `host-recovery workflow sync` refuses
# a workflow whose required pack version differs from the one Mistral has installed.
PACK_VERSION = "7"
