-- Counts and times of one node's tasks ($node: the address as a 32-byte felt).
SELECT
    (SELECT count(*) FROM ev_task_assigned WHERE node = $node) AS total_tasks,
    (SELECT count(*) FROM ev_task_assigned a
     WHERE a.node = $node
       AND a.task_id NOT IN (SELECT task_id FROM ev_task_completed)
       AND a.task_id NOT IN (SELECT task_id FROM ev_task_expired)) AS assigned_now,
    (SELECT avg(d.completed_at::BIGINT - a.assigned_at::BIGINT)
     FROM ev_task_completed d JOIN ev_task_assigned a USING (task_id)
     WHERE d.node = $node) AS average_completion,
    (SELECT coalesce(max("timestamp"), 0) FROM blocks) AS now
