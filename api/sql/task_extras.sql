-- One task's payload and refund, each a lookup by task_id (no join: each filter prunes to one
-- row group, or probes an index).
SELECT
    (SELECT payload FROM ev_task_created WHERE task_id = $id::UBIGINT) AS payload,
    coalesce(
        (SELECT refund FROM ev_task_cancelled WHERE task_id = $id::UBIGINT),
        (SELECT refund FROM ev_task_expired WHERE task_id = $id::UBIGINT)
    )::VARCHAR AS refund
