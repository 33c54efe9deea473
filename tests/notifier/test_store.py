"""The notifier's store: private file, config registrations kept by identity, one delivery per
(task, registration, event)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from notifier.errors import RegistrationError, StoreError
from notifier.manage import register
from notifier.store import ConfiguredCallback, NewDelivery, Position, open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_is_created_private_and_an_old_wide_file_is_narrowed(tmp_path: Path):
    path = tmp_path / "deep" / "store.sqlite3"
    open_store(path).close()
    assert mode(path) == 0o600
    path.chmod(0o644)
    open_store(path).close()
    assert mode(path) == 0o600


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "store.sqlite3"
    store = open_store(path)
    store._db.execute("PRAGMA user_version = 99")
    store.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(path)


def test_an_event_records_each_delivery_once_and_moves_the_position(tmp_path: Path):
    store = open_store(tmp_path / "s.sqlite3")
    a, _ = register(store, "http://127.0.0.1:1/a", creator="0x0AB")
    b, _ = register(store, "http://127.0.0.1:1/b", task_id=4)
    news = [NewDelivery(r.id, 4, "task.completed", 10, "0x1", "{}") for r in (a, b)]
    first = store.record_event(Position(10, 0, 1), news)
    assert {d.registration_id for d in first} == {a.id, b.id}
    assert store.position() == Position(10, 0, 1)
    assert store.record_event(Position(10, 0, 1), news) == []
    other = NewDelivery(a.id, 4, "task.expired", 11, "0x2", "{}")
    assert len(store.record_event(Position(11, 0, 0), [other])) == 1
    assert len(store.pending()) == 3
    assert {r.id for r in store.matching("0xab", 99)} == {a.id}
    assert {r.id for r in store.matching("0x1", 4)} == {b.id}
    store.close()


def test_removing_a_registration_forgets_its_secret_and_keeps_its_log(tmp_path: Path):
    store = open_store(tmp_path / "s.sqlite3")
    reg, secret = register(store, "http://127.0.0.1:1/a", task_id=1)
    assert store.secret_source(reg.id) == (secret, None)
    store.record_event(Position(1, 0, 0), [NewDelivery(reg.id, 1, "task.cancelled", 1, "0x", "{}")])
    store.remove_registration(reg.id)
    assert store.secret_source(reg.id) == (None, None)
    assert store.registrations() == []
    assert len(store.log(task_id=1)) == 1
    with pytest.raises(RegistrationError):
        store.remove_registration(reg.id)
    store.close()


def test_config_registrations_keep_their_id_while_in_the_file(tmp_path: Path):
    store = open_store(tmp_path / "s.sqlite3")
    one = ConfiguredCallback("http://h/1", "0x1", None, "A")
    two = ConfiguredCallback("http://h/2", None, 7, "B")
    first = store.sync_config([one, two])
    assert [r.id for r in store.sync_config([one, two])] == [r.id for r in first]
    (kept,) = store.sync_config([two])
    assert kept.id == first[1].id
    assert [r.id for r in store.registrations()] == [kept.id]
    assert store.secret_source(kept.id) == (None, "B")
    again = store.sync_config([one, two])
    assert again[0].id == first[0].id
    store.close()


@pytest.mark.parametrize(
    ("url", "creator"),
    [("ftp://h/x", "0x1"), ("http:///x", "0x1"), ("http://h:99999/", "0x1"), ("http://h/", "zz")],
)
def test_bad_registrations_are_refused(tmp_path: Path, url: str, creator: str):
    store = open_store(tmp_path / "s.sqlite3")
    with pytest.raises(RegistrationError):
        register(store, url, creator=creator)
    assert store.registrations() == []
    store.close()


def test_no_secret_is_left_readable_by_others(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    store = open_store(path)
    register(store, "http://127.0.0.1:1/a", task_id=1)
    for name in os.listdir(tmp_path):
        assert mode(tmp_path / name) & 0o077 == 0, name
    store.close()
