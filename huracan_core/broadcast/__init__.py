"""The Broadcaster: short Telegram messages about what the platform did (docs/operations.md#the-broadcaster).

``telegram`` posts a text and never fails its caller; ``messages`` words each event. Neither imports dagster:
the sensors in ``huracan_dagster.defs.broadcaster`` decide *when* to send, these modules *what* and *how*.
"""

from huracan_core.broadcast.telegram import MAX_MESSAGE_CHARS, TelegramClient, truncate

__all__ = ["MAX_MESSAGE_CHARS", "TelegramClient", "truncate"]
