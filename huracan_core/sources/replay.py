"""Serve a folder of parquet candle files as an exchange would, for any date range.

The folder holds one file per pair and timeframe named ``BASE-QUOTE_<timeframe>.parquet``, the format of the
real Binance sample in ``shared/data/candles``. Nothing is filled or dropped: gaps in the files stay gaps.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from huracan_core.schema import conform
from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.symbols import to_ccxt, to_key


class ReplaySource(CandleSource):
    def __init__(self, folder: str | Path, name: str | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CandleFetchError(f"replay folder {self.folder} does not exist")
        self.name = name or f"replay:{self.folder}"

    def _file(self, symbol: str, timeframe: str) -> Path:
        return self.folder / f"{to_key(symbol)}_{timeframe}.parquet"

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pl.DataFrame:
        path = self._file(symbol, timeframe)
        if not path.is_file():
            raise CandleFetchError(f"{self.name}: no {timeframe} candles for {to_ccxt(symbol)} ({path.name} missing)")
        frame = (
            pl.scan_parquet(path)
            .filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
            .sort("timestamp")
            .collect()
        )
        return conform(frame)

    def symbols(self, timeframe: str) -> list[str]:
        suffix = f"_{timeframe}.parquet"
        return sorted(to_ccxt(p.name[: -len(suffix)]) for p in self.folder.glob(f"*{suffix}"))

    def first_timestamp(self, symbol: str, timeframe: str) -> datetime | None:
        path = self._file(symbol, timeframe)
        if not path.is_file():
            return None
        return pl.scan_parquet(path).select(pl.col("timestamp").min()).collect().item()
