-- One page of tasks, newest first, keyset-paginated on id (ids grow with creation).
-- $party matches the creator or the assigned node (an account's tasks).
SELECT id, status, creator, kind, amount::VARCHAR AS amount, node, created_at, assigned_at,
       deadline, completed_at, created_block
FROM tasks
WHERE ($status::UTINYINT IS NULL OR status = $status::UTINYINT)
  AND ($creator::VARCHAR IS NULL OR creator = $creator::VARCHAR)
  AND ($provider::VARCHAR IS NULL OR node = $provider::VARCHAR)
  AND ($party::VARCHAR IS NULL OR creator = $party::VARCHAR OR node = $party::VARCHAR)
  AND ($kind::VARCHAR IS NULL OR kind = $kind::VARCHAR)
  AND ($created_after::UBIGINT IS NULL OR created_at > $created_after::UBIGINT)
  AND ($created_before::UBIGINT IS NULL OR created_at < $created_before::UBIGINT)
  AND ($before_id::UBIGINT IS NULL OR id < $before_id::UBIGINT)
ORDER BY id DESC
LIMIT $limit
