-- The ids of one page of tasks, newest first, when no filter needs the task's later events
-- (status, provider): ev_task_created alone answers, without building the tasks view.
SELECT task_id
FROM ev_task_created
WHERE ($creator::BLOB IS NULL OR creator = $creator::BLOB)
  AND ($kind::BLOB IS NULL OR kind = $kind::BLOB)
  AND ($created_after::UBIGINT IS NULL OR created_at > $created_after::UBIGINT)
  AND ($created_before::UBIGINT IS NULL OR created_at < $created_before::UBIGINT)
  AND ($before_id::UBIGINT IS NULL OR task_id < $before_id::UBIGINT)
ORDER BY task_id DESC
LIMIT $limit
