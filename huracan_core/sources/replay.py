"""Serve a folder of parquet candle files as an exchange would, for any date range.

The folder holds one file per pair and timeframe named ``BASE-QUOTE_<timeframe>.parquet``, the format of the
real Binance sample in ``shared/data/candles``. Nothing is filled or dropped: gaps in the files stay gaps.

A file that is missing or cannot be read (truncated, not parquet) is a ``CandleFetchError`` naming the file and
the symbol; a file that reads but has drifted (a renamed column, prices as text) is served as it is, for the
blocking rules to report on each partition it was to fill.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import polars as pl

from huracan_core.schema import conform, timestamp_expr
from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.symbols import is_pair, to_ccxt, to_key

#: what polars raises on a file that is not (whole) parquet; a panic is how some corruptions surface
READ_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError)


class ReplaySource(CandleSource):
    def __init__(self, folder: str | Path, name: str | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CandleFetchError(f"replay folder {self.folder} does not exist")
        self.name = name or f"replay:{self.folder}"

    def _file(self, symbol: str, timeframe: str) -> Path:
        return self.folder / f"{to_key(symbol)}_{timeframe}.parquet"

    @contextmanager
    def _reading(self, path: Path, symbol: str, timeframe: str) -> Iterator[None]:
        try:
            yield
        except READ_ERRORS as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CandleFetchError(
                f"{self.name}: cannot read {path} ({to_ccxt(symbol)} {timeframe}): {reason}"
            ) from error

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pl.DataFrame:
        path = self._file(symbol, timeframe)
        if not path.is_file():
            raise CandleFetchError(
                f"{self.name}: no {timeframe} candles for {to_ccxt(symbol)}: file {path} does not exist"
            )
        with self._reading(path, symbol, timeframe):
            lazy, as_time = _scan(path)
            if as_time is not None:
                lazy = (
                    lazy.with_columns(as_time)
                    .filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
                    .sort("timestamp")
                )
            # without a usable timestamp the range cannot be cut: the whole file goes to the rules, which reject it
            frame = lazy.collect()
        return conform(frame)

    def symbols(self, timeframe: str) -> list[str]:
        """Pairs with a file at ``timeframe``; other files in the folder (no ``BASE-QUOTE`` name) are not candles."""
        suffix = f"_{timeframe}.parquet"
        return sorted(to_ccxt(name) for p in self.folder.glob(f"*{suffix}") if is_pair(name := p.name[: -len(suffix)]))

    def known_symbols(self, timeframe: str) -> list[str]:
        return self.symbols(timeframe)

    def timeframes(self) -> list[str]:
        return sorted(
            {p.stem.rpartition("_")[2] for p in self.folder.glob("*_*.parquet") if is_pair(p.stem.rpartition("_")[0])}
        )

    def first_timestamp(self, symbol: str, timeframe: str) -> datetime | None:
        """The first candle's time; None when the file is missing or its timestamps are no times (drift that the
        blocking rules report when the candles are fetched)."""
        path = self._file(symbol, timeframe)
        if not path.is_file():
            return None
        with self._reading(path, symbol, timeframe):
            lazy, as_time = _scan(path)
            return None if as_time is None else lazy.select(as_time.min()).collect().item()

    def recorded_days(self, timeframes: Sequence[str]) -> tuple[date, date] | None:
        """From the files' first and last timestamps. A file that cannot be read is left out here: it fails the
        partitions it was to fill, naming itself, rather than the whole code location."""
        spans = []
        for timeframe in timeframes:
            for symbol in self.symbols(timeframe):
                path = self._file(symbol, timeframe)
                try:
                    with self._reading(path, symbol, timeframe):
                        lazy, as_time = _scan(path)
                        if as_time is not None:
                            spans.append(
                                lazy.select(as_time.min().alias("a"), as_time.max().alias("b")).collect().row(0)
                            )
                except CandleFetchError:
                    continue
        spans = [(a, b) for a, b in spans if a is not None]
        return (min(a for a, _ in spans).date(), max(b for _, b in spans).date()) if spans else None


def _scan(path: Path) -> tuple[pl.LazyFrame, pl.Expr | None]:
    """The file, lazily, with its ``timestamp`` as UTC milliseconds (None when the column is missing or no time)."""
    lazy = pl.scan_parquet(path)
    schema = lazy.collect_schema()
    return lazy, (timestamp_expr(schema["timestamp"]) if "timestamp" in schema else None)
