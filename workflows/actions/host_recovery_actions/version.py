"""``host_recovery.version``: which action pack Mistral runs (checked by ``workflow sync``)."""

from typing import Any

from mistral_lib import actions

from . import PACK_VERSION


class VersionAction(actions.Action):  # mistral-lib is untyped
    """Return the installed pack version, so operators can see what Mistral runs."""

    def run(self, context: Any) -> dict[str, str]:
        return {"pack_version": PACK_VERSION}

    def test(self, context: Any) -> dict[str, str]:
        return self.run(context)
