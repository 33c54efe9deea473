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
    assert again.get(1) == {"state": "claiming", "tx_hash": "0x1", "nonce": 4, "result": [1, 2]}
    assert again.state(2) == "rejected"
    assert again.state(99) is None
    assert [p.name for p in path.parent.iterdir()] == ["journal.json"]  # no temp file left
