"""The cheap calls that say whether a service answers: a database, the Archive, an exchange, Telegram.

Each makes one small request bounded by ``timeout_s`` (no retries: a health check reports the first failure
instead of hiding it behind back-off), reads nothing it does not need, and writes nothing — a SQLite file that does
not exist yet is reported as such, not created.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.health.status import Finding, State, one_line
from huracan_core.storage.local import LocalArtifactStore
from huracan_core.storage.s3 import S3ArtifactStore
from huracan_core.storage.store import ArtifactStore
from huracan_core.urls import without_password


def database(url: str, timeout_s: float, *, count: str, created_by: str) -> Finding:
    """Connect to ``url`` (SQLite, PostgreSQL, any SQLAlchemy URL) and count the rows of the table ``count``. A
    SQLite file that is not there yet, or a database without that table, is fine: ``created_by`` creates it."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    shown = without_password(url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            return Finding(State.OK, f"{path} does not exist yet: {created_by} creates it")
        # read-only, so the check never creates or migrates anything
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
        connect_args: dict[str, Any] = {"timeout": timeout_s}
    elif url.startswith(("postgresql", "postgres")):
        # libpq's connect_timeout is whole seconds (2 at least); the query may not outlast the probe either
        connect_args = {
            "connect_timeout": max(2, math.ceil(timeout_s)),
            "options": f"-c statement_timeout={int(timeout_s * 1000)}",
        }
    else:
        connect_args = {}
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:  # refused, unknown host or database, bad password: the driver's line
            return Finding(State.DOWN, f"{shown}: {one_line(error.orig or error)}")
        with connection:
            try:
                rows = connection.execute(sa.text(f"SELECT count(*) FROM {count}")).scalar_one()
            except DBAPIError:
                return Finding(State.OK, f"{shown} answers; no {count} table yet: {created_by} creates it")
    finally:
        engine.dispose()
    return Finding(State.OK, f"{shown}: {rows} {count}")


def archive(store: ArtifactStore) -> Finding:
    """The local folder is there and writable (or can be made), or the S3 bucket answers ``HeadBucket``."""
    if isinstance(store, S3ArtifactStore):
        return _bucket(store)
    if not isinstance(store, LocalArtifactStore):
        raise TypeError(f"no health check for a {type(store).__name__}")
    root = store.root
    if root.is_dir():
        writable = os.access(root, os.W_OK | os.X_OK)
        return Finding(State.OK, f"{root}") if writable else Finding(State.DOWN, f"{root} is not writable")
    parent = next(p for p in root.parents if p.exists())
    if not os.access(parent, os.W_OK | os.X_OK):
        return Finding(State.DOWN, f"{root} does not exist and {parent} is not writable")
    return Finding(State.OK, f"{root} does not exist yet: the first run writes it")


def _bucket(store: S3ArtifactStore) -> Finding:
    error_class = store.client.exceptions.ClientError
    try:
        store.client.head_bucket(Bucket=store.bucket)
    except error_class as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return Finding(State.DOWN, f"bucket {store.bucket!r} does not exist at {_endpoint(store)}")
        if code in ("403", "AccessDenied", "Forbidden"):
            return Finding(
                State.DOWN, f"access to bucket {store.bucket!r} denied at {_endpoint(store)}: check the AWS credentials"
            )
        raise
    return Finding(State.OK, f"{store.uri('')} at {_endpoint(store)}")


def _endpoint(store: S3ArtifactStore) -> str:
    return str(getattr(store.client.meta, "endpoint_url", "") or "AWS")


def exchange(client: Any, timeout_s: float) -> Finding:
    """One public request to a ccxt exchange: its server time where it offers one (the cheapest call there is),
    else its markets."""
    import ccxt

    client.timeout = int(timeout_s * 1000)
    cheap = bool(client.has.get("fetchTime"))
    what = "fetch_time" if cheap else "load_markets"
    try:
        client.fetch_time() if cheap else client.load_markets(reload=True)
    except ccxt.RequestTimeout as error:
        return Finding(State.DOWN, f"{client.id}: {what} timed out after {timeout_s:g} s ({one_line(error)})")
    except ccxt.BaseError as error:
        return Finding(State.DOWN, f"{client.id}: {what} failed ({one_line(error)})")
    return Finding(State.OK, f"{client.id} answers {what}")


def telegram(client: TelegramClient) -> Finding:
    """Whether the Bot API accepts the token (``getMe``); off while the token or the chat is not set."""
    if not client.enabled:
        return Finding(State.OFF, client.check()[1])
    accepted, detail = client.check()
    return Finding(State.OK if accepted else State.DOWN, detail)
