"""Service URLs as they may be shown: in messages, tables and metadata, never with their password."""

from __future__ import annotations

import re

_PASSWORD = re.compile(r"(://[^/:@]+):[^/@]+@")


def without_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``; a URL without one is unchanged."""
    return _PASSWORD.sub(r"\1:***@", url)
