"""The declared search space: one TOML file names every candidate a search tries.

A candidate is a timeframe × an exit (a fixed hold of N bars, or one of the trader's exit profiles) × a model
family × with or without the shared encoder's embedding. The file is the whole space on purpose: the corrections
count every candidate in it, so widening the search is visible in one place and raises the bar a winner must clear.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.research.corrections import SearchRules
from huracan_core.timeframes import bars_per_day, timeframe_seconds
from huracan_core.trading.exits import ExitConfig

if TYPE_CHECKING:  # the model's configuration (and LightGBM's stack) only when a candidate is evaluated
    from huracan_core.models.training import ModelConfig

FAMILIES = ("coin_lgbm", "pooled_lgbm")
#: the family of the long-top / short-bottom candidate built on the pooled model's ranking
MARKET_NEUTRAL = "market_neutral"
#: the symbol a market-neutral candidate's row carries: it trades the whole universe
UNIVERSE = "UNIVERSE"
#: the shipped spaces (``huracan_core/research/spaces/<name>.toml``)
SHIPPED = ("default", "years")
_TOP_KEYS = {"timeframes", "families", "encoder", "market_neutral", "cross_section", "exits", "profiles"}
_TABLES = {"walk_forward", "model", "rules"}
_MODEL_KEYS = {"rounds", "num_leaves", "min_data_in_leaf", "learning_rate", "seed"}
_EXIT_KEYS = {f.name for f in fields(ExitConfig)}


class SpaceError(ValueError):
    """A search space file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Exit:
    """``hold<N>``: out at the close of the Nth bar, nothing else; a profile: the trader's exits under ``config``."""

    name: str
    hold_bars: int | None = None
    profile: ExitConfig | None = None

    @property
    def fixed(self) -> bool:
        return self.hold_bars is not None

    def config(self, timeframe: str) -> ExitConfig:
        """The exits the shadow trader follows: a fixed hold is a max hold with stop, target and trail out of reach."""
        if self.profile is not None:
            return self.profile
        minutes = float(self.hold_bars or 1) * timeframe_seconds(timeframe) / 60
        never = 1e9
        return ExitConfig(
            stop_bps=dict.fromkeys(("TREND", "RANGE", "PANIC", "UNKNOWN"), never),
            take_profit_bands=((0.0, never),),
            trail_start_bps=never,
            max_hold_minutes=dict.fromkeys(("TREND", "RANGE", "PANIC", "UNKNOWN"), minutes),
        )


@dataclass(frozen=True)
class Candidate:
    timeframe: str
    exit: Exit
    family: str
    encoder: bool

    @property
    def id(self) -> str:
        return f"{self.timeframe}·{self.exit.name}·{_FAMILY_TAG[self.family]}·{'enc' if self.encoder else 'plain'}"

    def params(self) -> dict[str, object]:
        return {"timeframe": self.timeframe, "exit": self.exit.name, "family": self.family, "encoder": self.encoder}


_FAMILY_TAG = {"coin_lgbm": "coin", "pooled_lgbm": "pooled", MARKET_NEUTRAL: "neutral"}


@dataclass(frozen=True)
class SearchSpace:
    name: str
    timeframes: tuple[str, ...]
    families: tuple[str, ...]
    encoder: tuple[bool, ...]
    market_neutral: bool
    cross_section: tuple[str, ...]
    exits: tuple[Exit, ...]
    walk_forward: WalkForwardConfig
    model: dict[str, Any]
    rules: SearchRules
    #: the file's own bytes hashed: what a cached evaluation was computed under
    digest: str = field(default="")

    def candidates(self) -> list[Candidate]:
        """Every candidate, market-neutral ones included, in a fixed order."""
        out = [
            Candidate(tf, ex, family, enc)
            for tf in self.timeframes
            for ex in self.exits
            for family in self.families
            for enc in self.encoder
        ]
        if self.market_neutral and "pooled_lgbm" in self.families:
            out += [
                Candidate(tf, ex, MARKET_NEUTRAL, enc)
                for tf in self.timeframes
                for ex in self.exits
                if ex.fixed
                for enc in self.encoder
            ]
        return out

    def with_timeframes(self, timeframes: list[str]) -> SearchSpace:
        """The same space over other timeframes (``huracan research --timeframes``), checked like the file's."""
        try:
            return replace(self, timeframes=tuple(_timeframes(timeframes)))
        except ValueError as error:
            raise SpaceError(f"search space {self.name}: {error}") from error

    def model_config(self, timeframe: str, train_days: int) -> ModelConfig:
        """The coin model's own configuration (costs, calibration, gates) with this space's walk-forward and sizes."""
        from huracan_core.models.training import ModelConfig

        leaf = self.model.get("min_data_in_leaf", {})
        overrides = {k: v for k, v in self.model.items() if k != "min_data_in_leaf"}
        if timeframe in leaf:
            overrides["min_data_in_leaf"] = leaf[timeframe]
        return ModelConfig(train_days=train_days, walk_forward=self.walk_forward, **overrides)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "digest": self.digest,
            "timeframes": list(self.timeframes),
            "families": list(self.families),
            "encoder": list(self.encoder),
            "market_neutral": self.market_neutral,
            "cross_section": list(self.cross_section),
            "exits": [e.name for e in self.exits],
            "walk_forward": asdict(self.walk_forward),
            "model": self.model,
            "rules": asdict(self.rules),
        }


def load_space(spec: str | Path | None = None) -> SearchSpace:
    """A shipped space by name (``default``, ``years``) or a TOML file by path; None → ``default``."""
    if spec is None or str(spec) in SHIPPED:
        name = str(spec or "default")
        text = resources.files("huracan_core.research").joinpath(f"spaces/{name}.toml").read_text()
        return parse_space(text, name)
    path = Path(spec)
    if not path.is_file():
        raise SpaceError(f"search space {path}: no such file (or name one of {', '.join(SHIPPED)})")
    return parse_space(path.read_text(), str(path))


def parse_space(text: str, name: str) -> SearchSpace:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpaceError(f"search space {name}: not TOML ({error})") from error
    unknown = sorted(set(raw) - _TOP_KEYS - _TABLES)
    if unknown:
        raise SpaceError(f"search space {name}: unknown keys {unknown}")
    try:
        space = SearchSpace(
            name=name,
            timeframes=tuple(_timeframes(raw.get("timeframes", ["15m"]))),
            families=tuple(_families(raw.get("families", list(FAMILIES)))),
            encoder=tuple(_bools(raw.get("encoder", [False]), "encoder")),
            market_neutral=bool(raw.get("market_neutral", False)),
            cross_section=tuple(str(c) for c in raw.get("cross_section", [])),
            exits=tuple(_exits(raw.get("exits", {}), raw.get("profiles", {}))),
            walk_forward=WalkForwardConfig(**raw.get("walk_forward", {})),
            model=_model(raw.get("model", {})),
            rules=SearchRules.from_mapping(raw.get("rules", {})),
            digest=hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:12],
        )
    except (TypeError, ValueError) as error:
        raise SpaceError(f"search space {name}: {error}") from error
    if not space.candidates():
        raise SpaceError(f"search space {name}: declares no candidate")
    return space


def _timeframes(values: list[Any]) -> list[str]:
    for tf in values:
        bars_per_day(str(tf))  # a timeframe that does not divide a day cannot be built from day partitions
    if not values:
        raise ValueError("timeframes is empty")
    return [str(tf) for tf in values]


def _families(values: list[Any]) -> list[str]:
    bad = [v for v in values if v not in FAMILIES]
    if bad or not values:
        raise ValueError(f"families {bad or values} must be among {', '.join(FAMILIES)}")
    return [str(v) for v in values]


def _bools(values: list[Any], key: str) -> list[bool]:
    if not values or any(not isinstance(v, bool) for v in values):
        raise ValueError(f"{key} must be a list of true/false, got {values!r}")
    return list(dict.fromkeys(values))


def _exits(table: dict[str, Any], profiles: dict[str, Any]) -> list[Exit]:
    unknown = sorted(set(table) - {"hold_bars", "profiles"})
    if unknown:
        raise ValueError(f"exits: unknown keys {unknown}")
    out = []
    for n in table.get("hold_bars", []):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"exits.hold_bars must be whole numbers of bars >= 1, got {n!r}")
        out.append(Exit(f"hold{n}", hold_bars=n))
    for name in table.get("profiles", []):
        if name not in profiles:
            raise ValueError(f"exit profile {name!r} is listed in exits.profiles but has no [profiles.{name}] table")
        out.append(Exit(str(name), profile=_profile(name, profiles[name])))
    if not out:
        raise ValueError("exits declares no hold_bars and no profiles")
    return out


def _profile(name: str, values: dict[str, Any]) -> ExitConfig:
    unknown = sorted(set(values) - _EXIT_KEYS)
    if unknown:
        raise ValueError(f"profiles.{name}: unknown keys {unknown} (known: {', '.join(sorted(_EXIT_KEYS))})")
    given = dict(values)
    if "take_profit_bands" in given:
        given["take_profit_bands"] = tuple((float(lo), float(bps)) for lo, bps in given["take_profit_bands"])
    return ExitConfig(**given)


def _model(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - _MODEL_KEYS)
    if unknown:
        raise ValueError(f"model: unknown keys {unknown} (known: {', '.join(sorted(_MODEL_KEYS))})")
    return dict(values)
