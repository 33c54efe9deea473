-- 002: what the read API's hot queries need at a million tasks (scripts/bench_api.py).
--
-- The tasks view joins five event tables for every task, and a task's page needs its payload,
-- settlement, refund and timeline from five more lookups: ~225 ms for a status filter, six
-- statements for one task. So the index keeps, beside the events it is derived from:
--
-- * ART indexes on task_id of the five task event tables and on task_state's id (a lookup by
--   id probes instead of scanning a row group). None on creator or node: DuckDB fetches each
--   row an index finds column by column, which at a few hundred rows is no faster than a scan.
-- * task_state: one row per task. Its columns are what pages filter and list (the tasks
--   view's, felts as stored 32-byte BLOBs, node NULL until assigned, times 0 until set), and
--   `detail` is the whole task as one JSON document in the views' conventions (felts as
--   normalised hex, u256 amounts as decimal strings, NULL what the task does not have yet):
--   requirements, fees, payload and result felts, settlement with the gas recipient and
--   treasury of that moment, refund, and the timeline of its events with block and
--   transaction hashes and block times. One column because DuckDB fetches a row found by an
--   index one column at a time (~30-50 us each): thirty typed columns cost ~1.4 ms a task,
--   the document ~0.1 ms more than the id alone.
--
-- The table macro task_state_rows(ids) is the definition (NULL: every task). DuckDBStore.write
-- re-derives the rows of the tasks a batch touches in the batch's own transaction,
-- rollback_to those the removed blocks touched, rebuild all of them (indexer/sql/
-- task_state_*.sql); tests/indexer/test_replay_property.py checks the table against an
-- independent replay after every write and reorg.

CREATE INDEX IF NOT EXISTS ev_task_created_task ON ev_task_created (task_id);
CREATE INDEX IF NOT EXISTS ev_task_assigned_task ON ev_task_assigned (task_id);
CREATE INDEX IF NOT EXISTS ev_task_completed_task ON ev_task_completed (task_id);
CREATE INDEX IF NOT EXISTS ev_task_cancelled_task ON ev_task_cancelled (task_id);
CREATE INDEX IF NOT EXISTS ev_task_expired_task ON ev_task_expired (task_id);

CREATE OR REPLACE MACRO task_state_rows(ids) AS TABLE
WITH
wanted AS (SELECT unnest(ids) AS task_id),
created AS (
    SELECT * FROM ev_task_created
    WHERE ids IS NULL OR task_id IN (SELECT task_id FROM wanted)
),
assigned AS (
    SELECT * FROM ev_task_assigned
    WHERE ids IS NULL OR task_id IN (SELECT task_id FROM wanted)
),
completed AS (
    SELECT * FROM ev_task_completed
    WHERE ids IS NULL OR task_id IN (SELECT task_id FROM wanted)
),
cancelled AS (
    SELECT * FROM ev_task_cancelled
    WHERE ids IS NULL OR task_id IN (SELECT task_id FROM wanted)
),
expired AS (
    SELECT * FROM ev_task_expired
    WHERE ids IS NULL OR task_id IN (SELECT task_id FROM wanted)
),
task_events AS (
    SELECT task_id, 'TaskCreated' AS event, block_number, transaction_index, event_index
    FROM created
    UNION ALL
    SELECT task_id, 'TaskAssigned', block_number, transaction_index, event_index FROM assigned
    UNION ALL
    SELECT task_id, 'TaskCompleted', block_number, transaction_index, event_index FROM completed
    UNION ALL
    SELECT task_id, 'TaskCancelled', block_number, transaction_index, event_index FROM cancelled
    UNION ALL
    SELECT task_id, 'TaskExpired', block_number, transaction_index, event_index FROM expired
),
timelines AS (
    SELECT
        t.task_id,
        list({
            'event': t.event,
            'block_number': t.block_number,
            'transaction_index': t.transaction_index,
            'event_index': t.event_index,
            'block_hash': felt_hex(r.block_hash),
            'transaction_hash': felt_hex(r.transaction_hash),
            'timestamp': b."timestamp"
        } ORDER BY t.block_number, t.transaction_index, t.event_index) AS timeline
    FROM task_events t
    JOIN raw_events r USING (block_number, transaction_index, event_index)
    LEFT JOIN blocks b USING (block_number)
    GROUP BY t.task_id
),
task AS (
    SELECT
        c.task_id AS id,
        CASE
            WHEN d.task_id IS NOT NULL THEN 3
            WHEN x.task_id IS NOT NULL THEN 4
            WHEN e.task_id IS NOT NULL THEN 5
            WHEN a.task_id IS NOT NULL THEN 2
            ELSE 1
        END::UTINYINT AS status,
        c.creator, c.kind, a.node, c.amount, c.created_at,
        coalesce(a.assigned_at, 0)::UBIGINT AS assigned_at,
        coalesce(a.deadline, 0)::UBIGINT AS deadline,
        coalesce(d.completed_at, 0)::UBIGINT AS completed_at,
        c.block_number AS created_block,
        c.min_tier, c.gpu_required, c.cpu_threads, c.ram_gb, c.max_execution_time,
        c.provider_bps, c.gas_bps, c.treasury_bps,
        c.payload_hash, c.payload, d.result_hash, d.result,
        d.provider_amount, d.gas_amount, d.treasury_amount,
        CASE WHEN d.task_id IS NOT NULL THEN (
            SELECT arg_max(g.address, g.pos) FROM gas_recipient_history g
            WHERE g.pos <= (d.block_number, d.transaction_index, d.event_index)
        ) END AS gas_recipient,
        CASE WHEN d.task_id IS NOT NULL THEN (
            SELECT arg_max(h.address, h.pos) FROM treasury_history h
            WHERE h.pos <= (d.block_number, d.transaction_index, d.event_index)
        ) END AS treasury,
        coalesce(x.refund, e.refund) AS refund,
        coalesce(l.timeline, []) AS timeline
    FROM created c
    LEFT JOIN assigned a USING (task_id)
    LEFT JOIN completed d USING (task_id)
    LEFT JOIN cancelled x USING (task_id)
    LEFT JOIN expired e USING (task_id)
    LEFT JOIN timelines l USING (task_id)
)
SELECT
    id, status, creator, kind, node, amount, created_at, assigned_at, deadline, completed_at,
    created_block,
    to_json({
        'id': id,
        'status': status,
        'creator': felt_hex(creator),
        'kind': felt_hex(kind),
        'amount': amount::VARCHAR,
        'node': CASE WHEN node IS NOT NULL THEN felt_hex(node) END,
        'created_at': created_at,
        'assigned_at': assigned_at,
        'deadline': deadline,
        'completed_at': completed_at,
        'created_block': created_block,
        'min_tier': min_tier,
        'gpu_required': gpu_required,
        'cpu_threads': cpu_threads,
        'ram_gb': ram_gb,
        'max_execution_time': max_execution_time,
        'provider_bps': provider_bps,
        'gas_bps': gas_bps,
        'treasury_bps': treasury_bps,
        'payload_hash': felt_hex(payload_hash),
        'payload': list_transform(payload, lambda f: felt_hex(f)),
        'result_hash': CASE WHEN result_hash IS NOT NULL THEN felt_hex(result_hash) END,
        'result': list_transform(result, lambda f: felt_hex(f)),
        'provider_amount': provider_amount::VARCHAR,
        'gas_amount': gas_amount::VARCHAR,
        'treasury_amount': treasury_amount::VARCHAR,
        'gas_recipient': CASE WHEN gas_recipient IS NOT NULL THEN felt_hex(gas_recipient) END,
        'treasury': CASE WHEN treasury IS NOT NULL THEN felt_hex(treasury) END,
        'refund': refund::VARCHAR,
        'timeline': timeline
    })::VARCHAR AS detail
FROM task;

CREATE TABLE IF NOT EXISTS task_state (
    id UBIGINT NOT NULL,
    status UTINYINT NOT NULL,
    creator BLOB NOT NULL,
    kind BLOB NOT NULL,
    node BLOB,
    amount BIGNUM NOT NULL,
    created_at UBIGINT NOT NULL,
    assigned_at UBIGINT NOT NULL,
    deadline UBIGINT NOT NULL,
    completed_at UBIGINT NOT NULL,
    created_block UBIGINT NOT NULL,
    detail VARCHAR NOT NULL
);

-- An index written at schema 1 gets its rows here, in id order (what keyset pages scan);
-- emptied first so that the file is safe to re-run.
DELETE FROM task_state;
INSERT INTO task_state SELECT * FROM task_state_rows(NULL) ORDER BY id;

-- Not unique: a batch deletes and re-inserts a task's row in one transaction, and the
-- replay tests check there is one row per task.
CREATE INDEX IF NOT EXISTS task_state_id ON task_state (id);
