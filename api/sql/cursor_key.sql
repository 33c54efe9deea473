-- What identifies the index's content: the last indexed block and its hash (a reorg that
-- re-indexes the same height changes the hash).
SELECT block_number, block_hash FROM cursor
