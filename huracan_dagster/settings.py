"""Everything the environment decides, read once (in the definitions function or the CLI), never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_SOURCE = "bundled"
DEFAULT_TIMEFRAME = "15m"


@dataclass(frozen=True)
class Settings:
    home: Path
    source: str
    #: the timeframe ``huracan run`` materializes; always one of ``timeframes``
    timeframe: str
    #: every timeframe the code location defines assets for (``HURACAN_TIMEFRAMES``), each under its own prefix
    timeframes: tuple[str, ...]
    #: explicit universe (``BTC/USDT`` …); empty means "top N by quote volume" from the source
    symbols: tuple[str, ...]
    top_n: int

    def with_timeframe(self, timeframe: str) -> Settings:
        """The same settings running ``timeframe`` (added to the defined timeframes if it is new)."""
        return replace(self, timeframe=timeframe, timeframes=tuple(dict.fromkeys([*self.timeframes, timeframe])))

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
        timeframe = env.get("HURACAN_TIMEFRAME", DEFAULT_TIMEFRAME)
        listed = [t.strip() for t in env.get("HURACAN_TIMEFRAMES", "").split(",") if t.strip()]
        return cls(
            home=Path(env.get("HURACAN_HOME", ".huracan")).resolve(),
            source=env.get("HURACAN_SOURCE", DEFAULT_SOURCE),
            timeframe=timeframe,
            timeframes=tuple(dict.fromkeys([*listed, timeframe])),
            symbols=symbols,
            top_n=int(env.get("HURACAN_TOP_N", "5")),
        )
