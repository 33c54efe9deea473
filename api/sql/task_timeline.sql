-- Every escrow event of one task, by position (hashes and times: events_at.sql).
SELECT 'TaskCreated' AS event, block_number, transaction_index, event_index
FROM ev_task_created WHERE task_id = $id::UBIGINT
UNION ALL
SELECT 'TaskAssigned', block_number, transaction_index, event_index
FROM ev_task_assigned WHERE task_id = $id::UBIGINT
UNION ALL
SELECT 'TaskCompleted', block_number, transaction_index, event_index
FROM ev_task_completed WHERE task_id = $id::UBIGINT
UNION ALL
SELECT 'TaskCancelled', block_number, transaction_index, event_index
FROM ev_task_cancelled WHERE task_id = $id::UBIGINT
UNION ALL
SELECT 'TaskExpired', block_number, transaction_index, event_index
FROM ev_task_expired WHERE task_id = $id::UBIGINT
