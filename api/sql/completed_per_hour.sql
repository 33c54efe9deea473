-- Completions per hour of chain time, for the 24 hours ending at $now.
SELECT (completed_at // 3600) * 3600 AS hour_start, count(*) AS n
FROM ev_task_completed
WHERE completed_at::BIGINT > $now::BIGINT - 86400 AND completed_at::BIGINT <= $now::BIGINT
GROUP BY 1
