-- Raw events after a position, in chain order (the event stream's poll).
SELECT block_number, transaction_index, event_index, transaction_hash, from_address, keys, data
FROM raw_events
WHERE (block_number, transaction_index, event_index) > ($block::UBIGINT, $tx::UINTEGER, $ev::UINTEGER)
ORDER BY block_number, transaction_index, event_index
LIMIT $limit
