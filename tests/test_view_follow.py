"""A file `codex-otel view` follows that is truncated or replaced meanwhile (a session file
rotated, an editor's save): what it showed is dropped and it is read again, never shown twice,
and the page says so."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from codex_otel.cli._view import serving
from codex_otel.cli._view_files import FileFollower
from codex_otel.cli._view_model import StoredEvent, ViewStore
from tests.test_view import RECORDED_COUNTS, record_session, wait_read

BASE = 1_796_642_399_000_000_000


def _until(condition: Callable[[], bool]) -> bool:
    for _ in range(400):  # 10 s at most
        if condition():
            return True
        time.sleep(0.025)
    return False


def _counts(store: ViewStore) -> dict[str, int]:
    counts: dict[str, int] = store.header()["counts"]
    return counts


def test_a_file_truncated_while_followed_is_read_again_without_doubling(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    store = ViewStore()
    follower = FileFollower([path], store)
    follower.read_available()
    first = _counts(store)
    session = path.read_bytes()
    path.write_bytes(b"")  # truncated in place (same inode)
    follower.read_available()
    emptied = _counts(store)
    path.write_bytes(session)
    follower.read_available()
    assert (first, emptied, _counts(store)) == (
        RECORDED_COUNTS,
        {**RECORDED_COUNTS, "events": 0, "spans": 0},
        RECORDED_COUNTS,
    )
    assert store.header()["notes"] == [
        f"{path}: truncated while followed: its 12 events and spans dropped and it is read "
        "again from its start (metric series keep what it sent)"
    ]


def test_a_file_replaced_while_followed_is_read_again_and_the_page_shows_it_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    store = ViewStore()
    with serving(store, files=[path]) as server:
        wait_read(store, path)
        before = httpx.get(server.url + "api/state").json()
        fresh = tmp_path / "fresh.jsonl"
        fresh.write_bytes(path.read_bytes())
        os.replace(fresh, path)  # a new file by the same name, as long as the old one
        assert _until(lambda: bool(store.header()["notes"]))
        assert _until(lambda: _counts(store) == RECORDED_COUNTS)
        after = httpx.get(server.url + "api/state").json()
    summary = [(c["id"], c["events"], c["errors"]) for c in before["conversations"]]
    assert [(c["id"], c["events"], c["errors"]) for c in after["conversations"]] == summary
    assert after["counts"] == before["counts"] == RECORDED_COUNTS
    assert after["notes"] == [
        f"{path}: replaced while followed: its 12 events and spans dropped and it is read "
        "again from its start (metric series keep what it sent)"
    ]


def test_forgetting_a_file_keeps_what_arrived_live_between_its_lines() -> None:
    store = ViewStore()

    def event(name: str) -> StoredEvent:
        return StoredEvent(0, 0, name, BASE, {}, "", "", "")

    store.add_records([event("file 1")], "f.jsonl")
    store.add_records([event("live 1")])
    store.add_records([event("file 2"), event("file 3")], "f.jsonl")
    store.add_records([event("other file")], "g.jsonl")
    store.add_records([event("file 4")], "f.jsonl")
    store.add_records([event("live 2")])
    dropped = store.forget("f.jsonl")
    assert (dropped, [e.name for e in store.take().events]) == (
        4,
        ["live 1", "other file", "live 2"],
    )
