"""The app's lifespan: open the index, run the indexer beside the requests, close both.

DuckDB lets one process hold the file, so ``smainer api`` indexes it itself (docs/indexer.md):
``Indexer.run()`` is a task on the server's event loop, its writes in a worker thread, and
requests read through cursors of the same connection. With ``read_only`` a finished file is
opened read-only and no chain is contacted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import duckdb
from litestar import Litestar
from starknet_py.net.full_node_client import FullNodeClient

from api.state import ApiState
from indexer import (
    DuckDBStore,
    EventPipeline,
    Indexer,
    IndexerConfig,
    IndexerError,
    RpcSource,
    marketplace_queries,
    open_store,
)
from indexer.errors import DatabaseRefusedError
from indexer.migrate import available_migrations, check_schema
from smainer.aio import cancel_and_wait

log = logging.getLogger("api.indexer")
STOP_TIMEOUT = 30.0
"""Seconds to let the indexer finish its batch on shutdown before cancelling it."""


class ApiStartError(Exception):
    """The index cannot be served (missing, not ours, locked, or no target to index)."""


def open_read_only(path: str) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise ApiStartError(f"cannot open {path} read-only: {exc}") from None
    try:
        row = con.execute("SELECT value FROM smainer_meta WHERE key = 'application'").fetchone()
    except duckdb.Error:
        row = None
    if row is None or row[0] != "smainer-indexer":
        con.close()
        raise ApiStartError(f"{path} is not a Smainer index")
    # A read-only file is never migrated here: an older schema lacks what the queries read.
    newest = available_migrations()[-1].version
    try:
        version = check_schema(con, path)
    except DatabaseRefusedError as exc:
        con.close()
        raise ApiStartError(str(exc)) from None
    if version is None or version < newest:
        con.close()
        raise ApiStartError(
            f"{path} has index schema {version}, older than this Smainer's ({newest}); open it "
            "once with `smainer index` (which migrates it), then serve it read-only"
        )
    return con


async def _watch(state: ApiState, indexer: Indexer) -> None:
    """Run the indexer; a final error is kept for /health instead of killing the server."""
    try:
        await indexer.run()
    except IndexerError as exc:
        state.failure = str(exc)
        log.error("indexer stopped: %s", exc)


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    state: ApiState = app.state.api
    settings = state.settings
    if settings.read_only:
        state.connection = open_read_only(str(settings.db))
        try:
            yield
        finally:
            state.connection.close()
            state.connection = None
        return
    target = settings.target
    if target is None:
        raise ApiStartError("nothing to index: give a network and manifest, or read_only")
    try:
        store: DuckDBStore = await asyncio.to_thread(open_store, settings.db)
    except IndexerError as exc:
        raise ApiStartError(str(exc)) from None
    source = RpcSource.connect(
        target.rpc_url,
        list(target.addresses.values()),
        log=log.info,
        queries=marketplace_queries(
            target.addresses["Escrow"], target.addresses["Token"], whole_token=target.whole_token
        ),
    )
    indexer = Indexer(
        source,
        store,
        EventPipeline(target.addresses),
        IndexerConfig(start_block=target.start_block),
        log=log.info,
    )
    state.connection = store.connection
    state.indexer = indexer
    state.client = FullNodeClient(node_url=target.rpc_url)
    state.indexing = asyncio.create_task(_watch(state, indexer))
    try:
        yield
    finally:
        indexer.stop()
        try:
            await asyncio.wait_for(asyncio.shield(state.indexing), STOP_TIMEOUT)
        except TimeoutError:
            await cancel_and_wait(state.indexing)
        await source.close()
        state.connection = None
        store.close()
