-- Nodes with reputation (smainer/reputation.py, its prior passed as $prior_completed and
-- $prior_failed) and
-- liveness: a heartbeat or task event within $window seconds of the last indexed block's time.
WITH now AS (SELECT coalesce(max("timestamp"), 0)::BIGINT AS t FROM blocks),
activity AS (
    SELECT node, max(assigned_at) AS seen_at FROM ev_task_assigned GROUP BY node
    UNION ALL
    SELECT node, max(completed_at) FROM ev_task_completed GROUP BY node
),
last_activity AS (SELECT felt_hex(node) AS node, max(seen_at) AS seen_at FROM activity GROUP BY node),
shown AS (
    SELECT n.node, n.tier, n.gpu, n.cpu_threads, n.ram_gb, n.status, n.registered_at,
           n.last_heartbeat, n.completed_tasks, n.failed_tasks, n.earnings::VARCHAR AS earnings,
           (n.completed_tasks + $prior_completed)::DOUBLE
               / (n.completed_tasks + n.failed_tasks + $prior_completed + $prior_failed)
               AS reputation,
           greatest(n.last_heartbeat, coalesce(a.seen_at, 0))::BIGINT AS last_seen
    FROM nodes n LEFT JOIN last_activity a USING (node)
)
SELECT node, tier, gpu, cpu_threads, ram_gb, status, registered_at, last_heartbeat,
       completed_tasks, failed_tasks, earnings, reputation,
       (last_seen > 0 AND last_seen + $window::BIGINT >= (SELECT t FROM now)) AS online
FROM shown
WHERE ($node::VARCHAR IS NULL OR node = $node::VARCHAR)
  AND ($status::UTINYINT IS NULL OR status = $status::UTINYINT)
  AND ($min_tier::UTINYINT IS NULL OR tier >= $min_tier::UTINYINT)
  AND ($gpu::BOOLEAN IS NULL OR gpu = $gpu::BOOLEAN)
  AND ($cpu_threads::USMALLINT IS NULL OR cpu_threads >= $cpu_threads::USMALLINT)
  AND ($ram_gb::USMALLINT IS NULL OR ram_gb >= $ram_gb::USMALLINT)
  AND ($online::BOOLEAN IS NULL
       OR (last_seen > 0 AND last_seen + $window::BIGINT >= (SELECT t FROM now)) = $online::BOOLEAN)
ORDER BY reputation DESC, node
