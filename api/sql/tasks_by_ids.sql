-- The tasks of a known page of ids. The constant bounds let DuckDB skip row groups of every
-- event table joined by the tasks view (filters on id pass to each table's task_id).
SELECT id, status, creator, kind, amount::VARCHAR AS amount, node, created_at, assigned_at,
       deadline, completed_at, created_block
FROM tasks
WHERE id BETWEEN $low::UBIGINT AND $high::UBIGINT
  AND list_contains($ids::UBIGINT[], id)
ORDER BY id DESC
