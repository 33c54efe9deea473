"""The archive of mined blocks (:mod:`devnet.archive`): what goes to disk comes back equal, a
failed request's savepoint leaves nothing behind, and memory no longer grows per transaction.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from types import FunctionType, ModuleType

import pytest

from devnet import archive as archive_module
from devnet.archive import Archive
from devnet.codec import BlockId
from devnet.inprocess import in_process_client
from devnet.models import Block, Located, NewBlock, Receipt
from devnet.state import Devnet
from provider.transactions import DEVNET_BOUNDS
from smainer.network.accounts import signing_account
from tests.devnet.test_node_helpers import chain_state, listened, make_devnet, transfer_call


def _transfers(devnet: Devnet, count: int) -> list[int]:
    """``count`` one-unit STRK transfers from account 0 to account 1 (a block each), signed
    with our fast signer; their hashes."""
    alice, bob = devnet.predeployed_accounts[:2]
    account = signing_account(
        alice.address, alice.private_key, in_process_client(devnet), devnet.chain_id
    )
    call = transfer_call(devnet, bob.address, 1)

    async def run() -> list[int]:
        nonce = await account.get_nonce(block_number="pre_confirmed")
        hashes = []
        for offset in range(count):
            tx = await account.sign_invoke_v3(
                calls=[call], nonce=nonce + offset, resource_bounds=DEVNET_BOUNDS
            )
            sent = await account.client.send_transaction(tx)
            hashes.append(sent.transaction_hash)
        return hashes

    return asyncio.run(run())


def test_blocks_and_transactions_read_back_from_disk_equal_what_was_mined(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(archive_module, "CACHED_BLOCKS", 2)
    devnet = make_devnet()
    seen = listened(devnet)
    hashes = _transfers(devnet, 5)
    blocks = [note.block for note in seen if isinstance(note, NewBlock)]
    assert [block.number for block in blocks] == [1, 2, 3, 4, 5]
    first_tx = hashes[0]

    for block in blocks[:3]:  # evicted from the cache: decoded from the file
        read = devnet.get_block(BlockId(number=block.number))
        assert read == block
        assert read is not block
        assert devnet.get_block(BlockId(hash=block.block_hash)) == block
    located = devnet.get_transaction(first_tx)
    assert located.transaction.transaction_hash == first_tx
    assert (located.block_number, located.index) == (1, 0)
    assert located.receipt.events  # the transfer and the fee transfer
    assert [item.transaction.transaction_hash for item in devnet.block_transactions(blocks[0])] == [
        first_tx
    ]


def _block_with(devnet: Devnet, number: int) -> tuple[Block, tuple[Located, ...]]:
    block = devnet.get_block(BlockId(number=number))
    return block, tuple(devnet.block_transactions(block))


def test_a_restored_checkpoint_forgets_what_was_written_after_it():
    devnet = make_devnet()
    _transfers(devnet, 3)
    entries = [_block_with(devnet, number) for number in range(4)]
    archive = Archive()
    for block, transactions in entries[:2]:
        archive.append(block, transactions)

    mark = archive.checkpoint()
    archive.append(*entries[2])
    archive.append(*entries[3])
    late_tx = entries[3][1][0].transaction.transaction_hash
    assert archive.transaction(late_tx) == entries[3][1][0]
    archive.restore(mark)

    assert len(archive) == 2
    assert archive.latest == entries[1][0]
    assert archive.transaction(late_tx) is None
    assert late_tx not in archive
    assert archive.number_of(entries[3][0].block_hash or 0) is None
    with pytest.raises(IndexError):
        archive.block(2)

    archive.checkpoint()
    archive.append(*entries[2])
    archive.release()
    assert len(archive) == 3
    assert archive.block(2) == entries[2][0]
    assert [block for block, _ in archive.blocks()] == [block for block, _ in entries[:3]]


def test_truncating_forgets_the_blocks_and_their_transactions():
    devnet = make_devnet()
    hashes = _transfers(devnet, 3)
    archive = Archive()
    for number in range(4):
        archive.append(*_block_with(devnet, number))

    removed = archive.truncate(2)

    assert [block.number for block in removed] == [2, 3]
    assert len(archive) == 2
    assert hashes[0] in archive
    assert hashes[1] not in archive
    assert hashes[2] not in archive
    assert archive.number_of(removed[0].block_hash or 0) is None
    with pytest.raises(ValueError, match="appended after"):
        archive.append(removed[1], ())  # block 3 cannot follow block 1


def test_a_restart_deletes_the_old_archive():
    devnet = make_devnet()
    _transfers(devnet, 1)
    old = devnet._record.archive
    devnet.restart()
    assert devnet._record.archive is not old
    with pytest.raises(sqlite3.ProgrammingError):
        len(old.blocks().__next__())  # closed: its file is gone
    assert len(devnet._record.archive) == 1  # genesis only


def _reachable(root: object, kind: type) -> int:
    """How many ``kind`` objects ``root`` keeps alive (walking references, not classes)."""
    seen: set[int] = set()
    stack, found = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, ModuleType, FunctionType)):
            continue
        seen.add(id(obj))
        found += type(obj) is kind
        stack.extend(gc.get_referents(obj))
    return found


def test_mined_transactions_do_not_stay_in_memory(monkeypatch: pytest.MonkeyPatch):
    """Before the archive, every mined transaction stayed a Python object (~7.5 KiB each with
    its receipt, trace and block): now only the cached blocks' do, however long the chain.

    (``scripts/bench_devnet.py --soak`` measures the RSS; this counts the objects, which is
    exact.)
    """
    monkeypatch.setattr(archive_module, "CACHED_BLOCKS", 4)
    devnet = make_devnet()
    hashes = _transfers(devnet, 12)
    assert len(devnet._record.archive) == 13
    assert _reachable(devnet, Located) <= 4
    assert _reachable(devnet, Receipt) <= 4
    # ...and every one of them is still there to read.
    assert [devnet.get_transaction(tx).transaction.transaction_hash for tx in hashes] == hashes


def test_a_full_disk_changes_nothing():
    """SQLite ends the whole transaction when its file cannot grow (SQLITE_FULL): the savepoint
    is gone, and the request must still be undone everywhere, not only in the file."""
    devnet = make_devnet(accounts=2)
    _, bob = devnet.predeployed_accounts
    db = devnet._record.archive._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    failure = None
    for _ in range(50):
        before = chain_state(devnet)
        try:
            devnet.mint(bob.address, 1)
        except sqlite3.OperationalError as exc:
            failure = exc
            break
    assert failure is not None, "the file never filled up"
    assert "full" in str(failure)
    assert chain_state(devnet) == before
    assert devnet._record.pending == []

    db.execute("PRAGMA max_page_count = 1073741823")
    balance = devnet.balance(bob.address)
    devnet.mint(bob.address, 1)
    assert devnet.balance(bob.address) == balance + 1


def test_big_blocks_are_cached_by_their_transactions(monkeypatch: pytest.MonkeyPatch):
    """With ``--block-time`` a block holds many transactions: the cache counts those, not
    blocks (keeping the newest block whatever its size)."""
    monkeypatch.setattr(archive_module, "CACHED_TRANSACTIONS", 20)
    devnet = make_devnet(mine_per_tx=False)
    _, bob = devnet.predeployed_accounts
    for _ in range(3):
        for _ in range(15):
            devnet.mint(bob.address, 1)
        devnet.create_block()
    assert _reachable(devnet, Located) == 15  # the newest block's
    assert len(devnet.block_transactions(devnet.get_block(BlockId(number=1)))) == 15
