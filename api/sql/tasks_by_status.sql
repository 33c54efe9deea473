-- Tasks by status from event counts, without the tasks view (which joins every task): the
-- escrow's state machine (docs/protocol.md, "Task state machine": Open -> Assigned or Cancelled,
-- Assigned -> Completed or Expired, each once) makes every count a difference of counts.
WITH n AS (
    SELECT (SELECT count(*) FROM ev_task_created) AS created,
           (SELECT count(*) FROM ev_task_assigned) AS assigned,
           (SELECT count(*) FROM ev_task_completed) AS completed,
           (SELECT count(*) FROM ev_task_cancelled) AS cancelled,
           (SELECT count(*) FROM ev_task_expired) AS expired
)
SELECT 1 AS status, created - assigned - cancelled AS n FROM n
UNION ALL SELECT 2, assigned - completed - expired FROM n
UNION ALL SELECT 3, completed FROM n
UNION ALL SELECT 4, cancelled FROM n
UNION ALL SELECT 5, expired FROM n
