-- The last fully indexed block (one row, or none before the first batch).
SELECT block_number, block_hash FROM cursor WHERE id = 0
