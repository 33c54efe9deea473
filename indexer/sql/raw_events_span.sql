SELECT min(block_number), max(block_number), count(*) FROM raw_events
