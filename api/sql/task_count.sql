-- How many tasks the index holds (from DuckDB's row counts, without a scan): where a page of
-- the newest tasks starts looking (IndexReader.tasks).
SELECT count(*) FROM task_state
