-- One task in full: its task_state document (indexer migration 002), felts as normalised hex,
-- amounts as decimal strings. One column of one row, because DuckDB fetches a row found by an
-- index column by column (thirty columns ~1.4 ms, this ~0.4 at a million tasks).
SELECT detail FROM task_state WHERE id = $id::UBIGINT
