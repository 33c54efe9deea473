"""The journal survives a restart and keeps final states final."""

from provider.journal import Journal


def test_round_trip_and_unfinished(tmp_path):
    path = tmp_path / "j" / "journal.json"
    journal = Journal(path, start_block=10)
    assert journal.scanned_block == 9
    journal.record(3, "assigned")
    journal.record(1, "claiming", tx_hash="0x1", nonce=4, result=[1, 2])
    journal.record(2, "rejected", reason="unknown algorithm")
    journal.set_scanned_block(42)

    again = Journal(path, start_block=0)
    assert again.scanned_block == 42
    assert again.unfinished() == [1, 3]
    entry = again.get(1) or {}
    assert entry.pop("at") > 0
    assert entry == {"state": "claiming", "tx_hash": "0x1", "nonce": 4, "result": [1, 2]}
    assert again.state(2) == "rejected"
    assert again.state(99) is None
    assert [p.name for p in path.parent.iterdir()] == ["journal.json"]  # no temp file left


def test_prune_drops_only_old_final_entries(tmp_path):
    path = tmp_path / "journal.json"
    journal = Journal(path)
    journal.record(1, "claimed", tx="0x1")
    journal.record(2, "rejected", reason="unknown algorithm")
    journal.record(3, "claiming", tx_hash="0x3", nonce=1, result=[])
    journal.record(4, "assigned")
    cutoff = max(journal.data["tasks"][str(t)]["at"] for t in (1, 2, 3, 4)) + 1
    journal.record(5, "lost", reason="expired")
    journal.data["tasks"]["5"]["at"] = cutoff + 10  # settled after the cutoff: kept
    assert journal.prune(cutoff) == [1, 2]
    again = Journal(path)
    assert [t for t in (1, 2, 3, 4, 5) if again.state(t) is not None] == [3, 4, 5]
    assert again.unfinished() == [3, 4]
    assert journal.prune(cutoff) == []
