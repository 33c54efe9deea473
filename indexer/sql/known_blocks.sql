-- Stored block hashes at or below a height, newest first: where a reorg's fork is sought.
SELECT block_number, block_hash FROM blocks WHERE block_number <= $at ORDER BY block_number DESC LIMIT $limit
