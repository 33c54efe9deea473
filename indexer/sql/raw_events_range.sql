-- Raw events of a block range in chain order (what --rebuild decodes again).
SELECT block_number, transaction_index, event_index, block_hash, transaction_hash, from_address, keys, data FROM raw_events WHERE block_number BETWEEN $first AND $last ORDER BY block_number, transaction_index, event_index
