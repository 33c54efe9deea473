-- A task as the tasks view shows it, with its requirements and fees. Read apart from its
-- payload and settlement (task_extras.sql) so that the filter on id reaches every table the
-- view joins (one row group each, or one index probe) instead of a join over every task.
SELECT id, status, creator, kind, amount::VARCHAR AS amount, node, created_at, assigned_at,
       deadline, completed_at, created_block, min_tier, gpu_required, cpu_threads, ram_gb,
       max_execution_time, provider_bps, gas_bps, treasury_bps, payload_hash, result_hash
FROM tasks
WHERE id = $id::UBIGINT
