"""Everything the environment decides, read once (in the definitions function or the CLI), never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SOURCE = "bundled"
DEFAULT_TIMEFRAME = "15m"


@dataclass(frozen=True)
class Settings:
    home: Path
    source: str
    timeframe: str
    #: explicit universe (``BTC/USDT`` …); empty means "top N by quote volume" from the source
    symbols: tuple[str, ...]
    top_n: int

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def archive_root(self) -> Path:
        return self.home / "archive"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        symbols = tuple(s.strip() for s in env.get("HURACAN_SYMBOLS", "").split(",") if s.strip())
        return cls(
            home=Path(env.get("HURACAN_HOME", ".huracan")).resolve(),
            source=env.get("HURACAN_SOURCE", DEFAULT_SOURCE),
            timeframe=env.get("HURACAN_TIMEFRAME", DEFAULT_TIMEFRAME),
            symbols=symbols,
            top_n=int(env.get("HURACAN_TOP_N", "5")),
        )
