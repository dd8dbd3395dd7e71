"""The champion book: the history and each coin's pointer stay in step through races, crashes and bad folders."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from huracan_core.champions.book import ChampionBook, HistoryError
from huracan_core.models.artifacts import REQUIRED_FILES, CorruptModelError, write_model_folder
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import PROMOTIONS_KEY, QUARANTINE_KEY, champion_pointer_key
from huracan_core.storage.store import ArtifactStore
from huracan_core.trading.costs import CostModel

T0 = datetime(2024, 12, 1, tzinfo=UTC)


def _folder(store: ArtifactStore, name: str) -> str:
    folder = f"models/BTC-USDT/15m/{name}"
    write_model_folder(store, folder, {f: f"{f} of {name}\n".encode() for f in REQUIRED_FILES})
    return folder


def _line(folder: str | None, before: str | None, *, key: str, effective: datetime, promoted: bool = True) -> dict:
    card = {"symbol": "BTC-USDT", "timeframe": "15m", "model_folder": folder, "mlflow_version": "1"} if folder else None
    return {
        "decision_key": key,
        "symbol": "BTC/USDT",
        "timeframe": "15m",
        "source": "engine",
        "effective_from": effective.isoformat(),
        "promoted": promoted,
        "champion_before": before,
        "champion_after": folder,
        "champion": card,
        "reason": "test",
    }


def test_the_first_promotion_writes_the_pointer_and_a_kept_decision_leaves_it(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    assert book.in_force("BTC-USDT", T0) is None and book.pointer("BTC-USDT") is None
    book.record(_line(None, None, key="engine:d0", effective=T0, promoted=False))
    assert book.pointer("BTC-USDT") is None  # no champion yet: no pointer, the history says why
    a = _folder(store, "a")
    book.record(_line(a, None, key="engine:d1", effective=T0 + timedelta(days=1)))
    assert book.pointer("BTC-USDT")["model_folder"] == a
    book.record(_line(a, a, key="engine:d2", effective=T0 + timedelta(days=2), promoted=False))
    assert book.pointer("BTC-USDT")["model_folder"] == a
    assert [h["decision_key"] for h in book.history("BTC-USDT")] == ["engine:d0", "engine:d1", "engine:d2"]
    # in force at a moment: the newest decision effective by then
    assert book.in_force("BTC-USDT", T0 + timedelta(hours=12))["champion"] is None
    assert book.in_force("BTC-USDT", T0 + timedelta(days=1))["champion"]["model_folder"] == a


def test_a_decision_taken_again_supersedes_its_line_and_older_effects_do_not_override_newer(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    a, b = _folder(store, "a"), _folder(store, "b")
    book.record(_line(a, None, key="engine:d1", effective=T0 + timedelta(days=1)))
    book.record(_line(b, a, key="engine:d3", effective=T0 + timedelta(days=3)))
    # a backfill of day 2 decided later in wall time, earlier in effect: the pointer stays on the newest effect
    book.record(_line(a, a, key="engine:d2", effective=T0 + timedelta(days=2), promoted=False))
    assert book.pointer("BTC-USDT")["model_folder"] == b
    # day 3 decided again, keeping a: its earlier line no longer counts, and the pointer follows
    book.record(_line(a, a, key="engine:d3", effective=T0 + timedelta(days=3), promoted=False))
    assert book.in_force("BTC-USDT", T0 + timedelta(days=5))["champion"]["model_folder"] == a
    assert book.pointer("BTC-USDT")["model_folder"] == a
    assert book.in_force("BTC-USDT", T0 + timedelta(days=3), exclude_key="engine:d3")["decision_key"] == "engine:d2"


def test_a_promotion_to_an_incomplete_or_altered_folder_is_refused_and_nothing_recorded(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    a = _folder(store, "a")
    book.record(_line(a, None, key="engine:d1", effective=T0))
    half = "models/BTC-USDT/15m/half"
    for name in REQUIRED_FILES:  # every file, but the process died before sha256.txt
        store.write_bytes(f"{half}/{name}", b"x")
    with pytest.raises(CorruptModelError, match="half.*no sha256.txt"):
        book.record(_line(half, a, key="engine:d2", effective=T0 + timedelta(days=1)))
    b = _folder(store, "b")
    store.write_bytes(f"{b}/model.bin", b"tampered")
    with pytest.raises(CorruptModelError, match="model.bin has sha256"):
        book.record(_line(b, a, key="engine:d2", effective=T0 + timedelta(days=1)))
    assert len(book.history()) == 1 and book.pointer("BTC-USDT")["model_folder"] == a


class DiesOn(LocalArtifactStore):
    """A local store whose process dies when it is about to write one key."""

    def __init__(self, root, key: str) -> None:
        super().__init__(root)
        self.key = key

    def write_bytes(self, key: str, data: bytes) -> None:
        if key == self.key:
            raise OSError(f"killed before writing {key}")
        super().write_bytes(key, data)

    def append_bytes(self, key: str, data: bytes) -> None:
        if key == self.key:
            raise OSError(f"killed before appending to {key}")
        super().append_bytes(key, data)


def test_a_crash_between_the_model_and_the_decision_leaves_the_previous_champion_in_force(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    a = _folder(store, "a")
    ChampionBook(store, "15m").record(_line(a, None, key="engine:d1", effective=T0))
    b = _folder(store, "b")  # the new model is written in full …
    dying = ChampionBook(DiesOn(tmp_path, PROMOTIONS_KEY), "15m")
    with pytest.raises(OSError, match="killed"):  # … and the process dies before the decision is recorded
        dying.record(_line(b, a, key="engine:d2", effective=T0 + timedelta(days=1)))
    book = ChampionBook(store, "15m")
    assert (
        book.pointer("BTC-USDT")["model_folder"]
        == a
        == book.in_force("BTC-USDT", T0 + timedelta(days=9))["champion_after"]
    )


def test_a_crash_between_the_history_and_the_pointer_is_repaired_by_the_next_decision(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    a, b, c = _folder(store, "a"), _folder(store, "b"), _folder(store, "c")
    ChampionBook(store, "15m").record(_line(a, None, key="engine:d1", effective=T0))
    dying = ChampionBook(DiesOn(tmp_path, champion_pointer_key("BTC-USDT", "15m")), "15m")
    with pytest.raises(OSError, match="killed"):
        dying.record(_line(b, a, key="engine:d2", effective=T0 + timedelta(days=1)))
    book = ChampionBook(store, "15m")
    # the consumer still reads a complete, verified champion (the previous one) …
    assert book.pointer("BTC-USDT")["model_folder"] == a
    # … and the book puts the pointer where the history says, before or with the next decision, saying so
    [note] = book.reconcile(["BTC-USDT", "ETH-USDT"])
    assert (
        "champion/BTC-USDT/15m/latest.json named models/BTC-USDT/15m/a; rebuilt from the history: models/BTC-USDT/15m/b"
        in note
    )
    assert book.pointer("BTC-USDT")["model_folder"] == b
    assert book.reconcile(["BTC-USDT"]) == []  # whole again: nothing to say
    book.record(_line(c, b, key="engine:d3", effective=T0 + timedelta(days=2)))
    assert book.pointer("BTC-USDT")["model_folder"] == c


class RewritingStore(LocalArtifactStore):
    """A store that cannot append in place (as S3 cannot): each append rewrites the whole object."""

    append_bytes = ArtifactStore.append_bytes


def _promote_many(root: str, worker: int, rounds: int, go, rewriting: bool) -> None:
    promote_many(RewritingStore(root) if rewriting else LocalArtifactStore(root), worker, rounds, go)


def promote_many(store: ArtifactStore, worker: int, rounds: int, go) -> None:
    """One worker's promotions of BTC: ``rounds`` model folders, each recorded as a decision (the S3 test's too)."""
    book = ChampionBook(store, "15m")
    go.wait(60)  # both processes start deciding at the same moment
    for n in range(rounds):
        folder = f"models/BTC-USDT/15m/w{worker}_{n}"
        write_model_folder(store, folder, {f: f"{f} {worker} {n}\n".encode() for f in REQUIRED_FILES})
        # both workers claim the same effective moments: the order written breaks the tie
        book.record(_line(folder, None, key=f"mechanic:{folder}", effective=T0 + timedelta(hours=n)))


@pytest.mark.parametrize("rewriting", [False, True], ids=["append-in-place", "rewrite-whole-object"])
def test_two_processes_promoting_one_coin_at_once_leave_a_pointer_that_agrees_with_the_history(
    tmp_path, rewriting
) -> None:
    rounds = 40
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    workers = [spawn.Process(target=_promote_many, args=(str(tmp_path), w, rounds, go, rewriting)) for w in (0, 1)]
    for w in workers:
        w.start()
    go.set()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    book = ChampionBook(LocalArtifactStore(tmp_path), "15m")
    history = book.history("BTC-USDT")
    assert len(history) == 2 * rounds  # no decision lost to a lost update
    assert len({h["decision_key"] for h in history}) == 2 * rounds
    newest = book.in_force("BTC-USDT", None)
    assert newest["effective_from"] == (T0 + timedelta(hours=rounds - 1)).isoformat()
    assert book.pointer("BTC-USDT") == newest["champion"]  # the pointer is the history's answer
    ChampionBook(LocalArtifactStore(tmp_path), "15m").store.read_bytes(f"{newest['champion_after']}/sha256.txt")


def test_a_damaged_history_names_the_line(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    ok = json.dumps(_line(None, None, key="engine:d0", effective=T0, promoted=False))
    store.write_bytes(PROMOTIONS_KEY, f"{ok}\n{{not json\n".encode())
    with pytest.raises(HistoryError, match="promotions.jsonl line 2 is not JSON"):
        ChampionBook(store, "15m").history()
    store.write_bytes(PROMOTIONS_KEY, b'{"decision_key": "x"}\n')
    with pytest.raises(HistoryError, match="line 1 lacks symbol"):
        ChampionBook(store, "15m").history()


def test_a_coin_left_without_champion_by_a_decision_taken_again_has_no_pointer(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    a = _folder(store, "a")
    book.record(_line(a, None, key="engine:d1", effective=T0))
    line = _line(None, None, key="engine:d1", effective=T0, promoted=False)
    line["figures"] = {"a": {"profit_factor": float("inf")}}  # a non-finite figure is recorded as null
    book.record(line)
    assert book.pointer("BTC-USDT") is None and not store.exists(champion_pointer_key("BTC-USDT", "15m"))
    assert book.history()[-1]["figures"] == {"a": {"profit_factor": None}}


def test_an_append_cut_short_is_not_history_and_is_quarantined_saying_so_before_the_next(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    a = _folder(store, "a")
    book.record(_line(a, None, key="engine:d1", effective=T0))
    torn = b'{"decision_key": "engine:d2", "symb'
    store.append_bytes(PROMOTIONS_KEY, torn)  # a process killed mid-append
    fresh = ChampionBook(store, "15m")
    assert [h["decision_key"] for h in fresh.history()] == ["engine:d1"]  # the torn line was never committed
    fresh.record(_line(a, a, key="engine:d2", effective=T0 + timedelta(days=1), promoted=False))
    assert [h["decision_key"] for h in ChampionBook(store, "15m").history()] == ["engine:d1", "engine:d2"]
    assert store.read_bytes(PROMOTIONS_KEY).count(b"\n") == 2
    [note] = fresh.notes  # said, and kept: never dropped without a word
    assert (
        "promotions.jsonl line 2 has no newline: an append cut short: moved to champions/promotions.quarantine.jsonl"
        in note
    )
    [kept] = [json.loads(line) for line in store.read_bytes(QUARANTINE_KEY).splitlines()]
    assert kept["line"] == 2 and kept["text"] == torn.decode() and "cut short" in kept["reason"]


def test_a_damaged_line_is_quarantined_by_reconcile_naming_file_and_line(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    a = _folder(store, "a")
    ChampionBook(store, "15m").record(_line(a, None, key="engine:d1", effective=T0))
    good = store.read_bytes(PROMOTIONS_KEY)
    store.write_bytes(PROMOTIONS_KEY, good + b'{"decision_key": "engine:d2", "symbol": "BT\xff\n' + good)
    with pytest.raises(HistoryError, match=r"promotions.jsonl line 2 is not JSON .*the next champion step moves it"):
        ChampionBook(store, "15m").history()
    book = ChampionBook(store, "15m")
    [note] = book.reconcile(["BTC-USDT"])
    assert "promotions.jsonl line 2 is not JSON" in note and QUARANTINE_KEY in note
    assert [h["decision_key"] for h in book.history()] == ["engine:d1", "engine:d1"]
    assert json.loads(store.read_bytes(QUARANTINE_KEY))["line"] == 2


@pytest.mark.parametrize("damage", ["torn", "missing", "foreign"])
def test_a_torn_missing_or_disagreeing_pointer_is_rebuilt_from_the_history(tmp_path, damage) -> None:
    store = LocalArtifactStore(tmp_path)
    a, b = _folder(store, "a"), _folder(store, "b")
    ChampionBook(store, "15m").record(_line(a, None, key="engine:d1", effective=T0))
    key = champion_pointer_key("BTC-USDT", "15m")
    if damage == "torn":
        store.write_bytes(key, store.read_bytes(key)[:20])  # a copy or a disk that cut it short
    elif damage == "missing":
        store.delete(key)
    else:
        store.write_json(key, {"model_folder": b})
    book = ChampionBook(store, "15m")
    assert book.pointer("BTC-USDT") in (None, {"model_folder": b})  # a torn pointer reads as none, never a crash
    [note] = book.reconcile([])  # every coin of the history, not only those named
    expected = {"torn": "was not JSON (damaged)", "missing": "was missing", "foreign": f"named {b}"}[damage]
    assert f"latest.json {expected}; rebuilt from the history: {a}" in note
    assert book.pointer("BTC-USDT")["model_folder"] == a


def test_a_decision_taken_again_is_one_decision_of_its_day(tmp_path) -> None:
    from huracan_core.daily_summary import decisions_of_day

    store = LocalArtifactStore(tmp_path)
    book = ChampionBook(store, "15m")
    a = _folder(store, "a")
    book.record(_line(None, None, key="engine:d1", effective=T0, promoted=False))
    book.record(_line(a, None, key="engine:d1", effective=T0))  # the same day decided again, now promoting
    book.record(_line(a, a, key="engine:d2", effective=T0 + timedelta(days=1), promoted=False))
    [decision] = decisions_of_day(book.history(), T0.date())
    assert decision["promoted"] and decision["champion_after"] == a


def test_a_champion_step_that_fails_part_way_records_none_of_its_decisions(tmp_path) -> None:
    """The decisions of a step are recorded together once all were taken: a retry after a failure appends no line
    for a decision that never took effect (each retry used to append the first coins' decisions again)."""
    from huracan_core.champions.day_decisions import decide_partitions

    store = LocalArtifactStore(tmp_path)
    a = _folder(store, "a")
    eth = {**_line(a, None, key="engine:eth", effective=T0), "symbol": "ETH/USDT"}
    ChampionBook(store, "15m").record(eth)
    store.write_bytes(f"{a}/model.bin", b"damaged")  # ETH's champion in force can no longer be loaded
    before = store.read_bytes(PROMOTIONS_KEY)
    day = (T0 + timedelta(days=1)).date()
    inputs = {name: {} for name in ("candles", "features", "regimes", "signals")}
    with pytest.raises(CorruptModelError, match=rf"champion {day}\|ETH-USDT: the champion in force cannot be loaded"):
        decide_partitions(
            ChampionBook(store, "15m"),
            {},
            inputs,
            [(day, "BTC-USDT"), (day, "ETH-USDT")],
            "15m",
            evaluation_days=3,
            recipe_hash="r",
            costs=CostModel(),
            now=lambda: T0,
        )
    assert store.read_bytes(PROMOTIONS_KEY) == before  # BTC's decision, taken first, was not recorded either
    lines = decide_partitions(
        ChampionBook(store, "15m"),
        {},
        inputs,
        [(day, "BTC-USDT")],
        "15m",
        evaluation_days=3,
        recipe_hash="r",
        costs=CostModel(),
        now=lambda: T0,
    )
    assert [line["symbol"] for line in lines] == ["BTC-USDT"] and len(ChampionBook(store, "15m").history()) == 2


def test_a_decision_of_another_timeframe_never_becomes_this_ones_champion(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    a = _folder(store, "a")
    hourly = ChampionBook(store, "1h")
    hourly.record({**_line(a, None, key="engine:h", effective=T0), "timeframe": "1h"})
    book = ChampionBook(store, "15m")
    book.record(_line(None, None, key="engine:q", effective=T0 + timedelta(hours=1), promoted=False))
    assert book.in_force("BTC-USDT", None)["champion"] is None and book.pointer("BTC-USDT") is None
    assert (
        hourly.in_force("BTC-USDT", None)["champion"]["model_folder"] == a == hourly.pointer("BTC-USDT")["model_folder"]
    )
    assert [h["decision_key"] for h in book.history()] == ["engine:q"]
    with pytest.raises(ValueError, match="a 1h decision offered to the 15m champion book"):
        book.record({**_line(a, None, key="engine:x", effective=T0), "timeframe": "1h"})
