-- One page of tasks, newest first, keyset-paginated on id (ids grow with creation), from
-- task_state (indexer migration 002): one row per task, so every filter is a column test.
-- The conditions placeholder below takes the tests of the filters given (PAGE_FILTERS in
-- api/queries.py), each with its value as a parameter: a test written for an absent filter
-- ("$x IS NULL OR ...") is not pushed into the scan, and a full scan of a million rows costs
-- ~10 ms where the row groups of the newest ids cost ~1 (IndexReader.tasks adds "id >= $low"
-- for those).
SELECT id, status, creator, kind, amount::VARCHAR AS amount, node, created_at, assigned_at,
       deadline, completed_at, created_block
FROM task_state
WHERE true{conditions}
ORDER BY id DESC
LIMIT $limit
