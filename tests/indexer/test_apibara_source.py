"""The indexer fed by the apibara source (the SDK's client) from the devnet's DNA v1alpha2 stream.

This module's devnet serves both JSON-RPC and the DNA stream (``--dna-port``) and carries the
same marketplace history as the rest of ``tests/indexer`` (:func:`play_history`); an index built
from the stream must equal, table for table, one built by JSON-RPC, also after reorgs while
following the head.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.server import serve_devnet
from indexer import Indexer, IndexerConfig, RpcSource, open_store
from indexer.apibara_source import ApibaraSource
from indexer.errors import BlockNotFoundError, SourceError
from indexer.pipeline import EventPipeline
from indexer.retry import Backoff
from smainer.config import DevnetSettings
from tests.devnet.conftest import RunningServer, start_in_thread
from tests.indexer.conftest import (
    abort_from,
    caught_up,
    deploy,
    dump,
    index,
    play_history,
)
from tests.indexer.market import Market, call, create_task

pytestmark = pytest.mark.slow


@dataclass
class DnaMarket:
    market: Market
    dna_url: str

    @property
    def addresses(self) -> dict[str, int]:
        return {"Escrow": self.market.escrow, "Token": self.market.token}

    def source(self, **options: object) -> ApibaraSource:
        return ApibaraSource(
            self.dna_url,
            list(self.addresses.values()),
            start_block=self.market.deploy_block,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="module")
def dna_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnaMarket]:
    lines: list[str] = []

    async def serve(stop: asyncio.Event, on_ready: Callable[[int], None]) -> None:
        settings = DevnetSettings(port=0, seed=13, accounts=5)
        await serve_devnet(settings, stop=stop, on_ready=on_ready, out=lines.append, dna_port=0)

    server: RunningServer = start_in_thread(serve)
    (announced,) = [line for line in lines if line.startswith("Apibara DNA v1alpha2 stream on ")]

    async def build() -> Market:
        m = await deploy(server.url, tmp_path_factory.mktemp("dna-deployments"))
        await play_history(m)
        return m

    yield DnaMarket(asyncio.run(build()), f"http://{announced.rsplit(' ', 1)[1]}")
    server.stop()


async def index_from_stream(dna: DnaMarket, db: Path, until: int) -> None:
    source = dna.source()
    store = open_store(db)
    try:
        indexer = Indexer(
            source,
            store,
            EventPipeline(dna.addresses),
            IndexerConfig(start_block=dna.market.deploy_block, until_block=until),
        )
        await asyncio.wait_for(indexer.run(), timeout=120)
        assert indexer.is_ready
    finally:
        store.close()
        await source.close()


async def test_the_stream_indexes_the_same_tables_as_json_rpc(dna_market: DnaMarket, tmp_path):
    head = await dna_market.market.head()
    await index_from_stream(dna_market, tmp_path / "dna.duckdb", head)
    await index(dna_market.market, tmp_path / "rpc.duckdb", until=head)
    streamed = dump(tmp_path / "dna.duckdb")
    assert streamed == dump(tmp_path / "rpc.duckdb")
    assert len(streamed["raw_events"]) > 30
    assert streamed["ev_task_created"], "decoded tables are filled, not only raw events"


async def test_source_answers_like_rpc_and_streams_again_what_it_dropped(dna_market: DnaMarket):
    market = dna_market.market
    rpc = RpcSource.connect(market.rpc_url, list(dna_market.addresses.values()))
    source = dna_market.source(batch_size=3)
    try:
        head = await source.head()
        assert head == await market.head()
        first, middle = market.deploy_block, (market.deploy_block + head) // 2
        assert await source.events(first, middle) == await rpc.events(first, middle)
        assert await source.events(middle + 1, head) == await rpc.events(middle + 1, head)
        for number in (first, middle, head):
            assert await source.header(number) == await rpc.header(number)
        # Both ranges were read: their events are dropped, and asking again streams them again.
        assert source._low == head + 1
        assert await source.events(first, head) == await rpc.events(first, head)
        with pytest.raises(BlockNotFoundError):
            await source.header(head + 1)
    finally:
        await source.close()
        await rpc.close()


async def test_a_stream_that_cannot_connect_is_a_retryable_source_error(tmp_path):
    source = ApibaraSource("http://127.0.0.1:9", [1], timeout=5, backoff=Backoff(first=0.05))
    try:
        with pytest.raises(SourceError, match="UNAVAILABLE") as failed:
            await source.head()
        assert failed.value.retryable
    finally:
        await source.close()
    with pytest.raises(ValueError, match="not a DNA URL"):
        ApibaraSource("ftp://example.com", [1])


async def test_reorgs_while_following_the_stream_end_equal_to_a_fresh_index(
    dna_market: DnaMarket, tmp_path
):
    market, e = dna_market.market, dna_market.market.escrow
    source = dna_market.source()
    store = open_store(tmp_path / "following.duckdb")
    lines: list[str] = []
    indexer = Indexer(
        source,
        store,
        EventPipeline(dna_market.addresses),
        IndexerConfig(start_block=market.deploy_block, poll_interval=0.02),
        log=lines.append,
    )
    running = asyncio.create_task(indexer.run())
    try:
        await asyncio.wait_for(indexer.ready.wait(), 60)
        first = await market.send(1, create_task(e, 1111))
        await market.send(4, call(e, "heartbeat"))
        await caught_up(market, store)
        # Two blocks replaced by two others while the indexer follows the stream.
        await abort_from(market, first)
        await market.send(2, create_task(e, 2222))
        await market.send(1, create_task(e, 3333))
        await caught_up(market, store)
        # The last block aborted and nothing else: the chain got shorter.
        await abort_from(market, await market.head())
        await caught_up(market, store)
    finally:
        indexer.stop()
        await asyncio.wait_for(running, timeout=30)
        status = indexer.status()
        store.close()
        await source.close()
    print("\n".join(lines))
    assert status.reorgs == 2
    assert sum("reorg:" in line for line in lines) == 2

    fresh = tmp_path / "fresh.duckdb"
    await index(market, fresh)
    following = dump(tmp_path / "following.duckdb")
    assert following == dump(fresh)
    amounts = {int(r[13]) for r in following["ev_task_created"]}
    assert 2222 in amounts
    assert not {1111, 3333} & amounts, "the tasks of aborted blocks are gone"


def test_index_command_reads_the_stream(dna_market: DnaMarket, tmp_path, capsys):
    from smainer.cli import main

    market = dna_market.market
    head = asyncio.run(market.head())
    argv = ["index", "--network", market.rpc_url, "--manifest", str(market.manifest)]
    db = tmp_path / "cli.duckdb"
    assert main([*argv, "--source", "apibara"]) == 2
    assert "--source apibara needs --dna URL" in capsys.readouterr().err
    stream = ["--source", "apibara", "--dna", dna_market.dna_url]
    assert main([*argv, *stream, "--db", str(db), "--to-block", str(head)]) == 0
    err = capsys.readouterr().err
    assert f"Apibara DNA v1alpha2 {dna_market.dna_url}" in err
    assert f"synced to head at block {head}" in err
    reference = tmp_path / "reference.duckdb"
    asyncio.run(index(market, reference, until=head))
    assert dump(db) == dump(reference)
