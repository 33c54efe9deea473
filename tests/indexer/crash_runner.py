"""The indexer as a process of its own, for tests/indexer/test_crash.py to SIGKILL.

    python -m tests.indexer.crash_runner RPC_URL ESCROW TOKEN START UNTIL DB RANGE

What ``smainer index --to-block`` runs, with ranges of ``RANGE`` blocks (one transaction each)
so a short backfill has many commits to be killed in; each log line goes to stdout at once.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from indexer import Indexer, IndexerConfig, RpcSource, open_store
from indexer.pipeline import EventPipeline


async def run(
    url: str, escrow: int, token: int, start: int, until: int, db: Path, size: int
) -> None:
    addresses = {"Escrow": escrow, "Token": token}
    store = open_store(db)
    source = RpcSource.connect(url, list(addresses.values()), ws_url=None)
    try:
        indexer = Indexer(
            source,
            store,
            EventPipeline(addresses),
            IndexerConfig(start_block=start, until_block=until, range_size=size, concurrency=2),
            log=lambda line: print(line, flush=True),
        )
        await indexer.run()
    finally:
        await source.close()
        store.close()


def main(argv: list[str]) -> None:
    url, escrow, token, start, until, db, size = argv
    asyncio.run(
        run(url, int(escrow, 0), int(token, 0), int(start), int(until), Path(db), int(size))
    )


if __name__ == "__main__":
    main(sys.argv[1:])
