-- Block and transaction hashes and block times of the raw events in a few blocks ($blocks, a
-- list; $low..$high its bounds, so only their row groups are read). The caller picks positions.
SELECT r.block_number, r.transaction_index, r.event_index, felt_hex(r.block_hash) AS block_hash,
       felt_hex(r.transaction_hash) AS transaction_hash,
       (SELECT b."timestamp" FROM blocks b
        WHERE b.block_number = r.block_number
          AND b.block_number BETWEEN $low::UBIGINT AND $high::UBIGINT) AS "timestamp"
FROM raw_events r
WHERE r.block_number BETWEEN $low::UBIGINT AND $high::UBIGINT
  AND list_contains($blocks::UBIGINT[], r.block_number)
