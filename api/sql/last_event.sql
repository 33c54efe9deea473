SELECT block_number, transaction_index, event_index FROM raw_events
ORDER BY block_number DESC, transaction_index DESC, event_index DESC LIMIT 1
