"""Embedded local Starknet speaking JSON-RPC 0.10.2, built on :mod:`smainer.engine`.

One job per module:

* :mod:`devnet.state` -- ``Devnet``: the facade (lock, listeners, all-or-nothing writes);
* :mod:`devnet.record` -- the chain's data in one record; :mod:`devnet.rollback` -- restoring it;
* :mod:`devnet.sealing` -- the pre-confirmed block and mining; :mod:`devnet.clock` -- time;
* :mod:`devnet.reads` -- reads at any block; :mod:`devnet.simulation` -- calls and estimates;
* :mod:`devnet.cheats` -- mint, time, aborts, predeploys, impersonation, gas prices;
* :mod:`devnet.engine_errors` -- engine failures as spec errors;
* :mod:`devnet.access` -- who may call it (Origin and Host allow-lists);
* :mod:`devnet.transactions` -- the v3 flow: nonce, fee checks, validate, execute, fee transfer;
* :mod:`devnet.fees` -- the resource and fee model;
* :mod:`devnet.genesis` -- block 0: fee tokens, UDC, funded accounts, key derivation;
* :mod:`devnet.journal` -- the engine's ``Chain`` with a write journal (diffs, rollbacks);
* :mod:`devnet.archive` -- mined blocks and transactions on disk, a few hundred in memory;
* :mod:`devnet.history` -- per-key values by block (reads at past blocks, aborts);
* :mod:`devnet.compiler` -- Sierra -> CASM for declares;
* :mod:`devnet.events` -- ``starknet_getEvents`` filtering and paging;
* :mod:`devnet.dump` -- ``devnet_dump`` / ``devnet_load``;
* :mod:`devnet.models` -- the records; :mod:`devnet.codec` -- their JSON;
* :mod:`devnet.methods` -- the RPC handlers; :mod:`devnet.app` -- ``build_dispatcher``;
* :mod:`devnet.inprocess` -- starknet-py clients served in process (tests, scripts).
"""
