-- 001: the first schema of the Smainer index.
--
-- Layout (docs/indexer.md): the chain's raw events and block headers; one table per decoded
-- event type, each row keyed by (block_number, transaction_index, event_index); the current
-- state (tasks, nodes, settings, ...) as views over those tables, so that rolling back a reorg
-- is one DELETE per table and a rebuild only re-decodes raw_events.
--
-- Felts (addresses, hashes, payload words) are 32-byte big-endian BLOBs; u8..u64 are unsigned
-- integers; u256 amounts are BIGNUM (exact, summable); the views show felts as normalised
-- 0x-hex text (lowercase, no leading zeros) through felt_hex().

-- The contracts this index follows (Escrow, Token); an index is never reused for others.
CREATE TABLE IF NOT EXISTS contracts (
    name VARCHAR PRIMARY KEY,
    address BLOB NOT NULL
);

-- The last block whose events are all indexed; one row (id 0), written in the same
-- transaction as the events it covers.
CREATE TABLE IF NOT EXISTS cursor (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    block_number UBIGINT NOT NULL,
    block_hash BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Headers of the blocks that hold indexed events, of range ends, and of every block near the
-- head (what the reorg check compares parent hashes against).
CREATE TABLE IF NOT EXISTS blocks (
    block_number UBIGINT PRIMARY KEY,
    block_hash BLOB NOT NULL,
    parent_hash BLOB NOT NULL,
    "timestamp" UBIGINT NOT NULL,
    finality VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS raw_events (
    block_number UBIGINT NOT NULL,
    transaction_index UINTEGER NOT NULL,
    event_index UINTEGER NOT NULL,
    block_hash BLOB NOT NULL,
    transaction_hash BLOB NOT NULL,
    from_address BLOB NOT NULL,
    keys BLOB[] NOT NULL,
    data BLOB[] NOT NULL,
    PRIMARY KEY (block_number, transaction_index, event_index)
);

-- Decoded events, one table per event type: ev_<snake_case name>. Columns after the position
-- are the event's ABI members (struct members flattened), named as in the ABI.

CREATE TABLE IF NOT EXISTS ev_escrow_initialized (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "owner" BLOB NOT NULL, payment_token BLOB NOT NULL, scheduler BLOB NOT NULL,
    treasury BLOB NOT NULL, gas_recipient BLOB NOT NULL,
    provider_bps USMALLINT NOT NULL, gas_bps USMALLINT NOT NULL, treasury_bps USMALLINT NOT NULL,
    max_execution_time UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_task_created (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    task_id UBIGINT NOT NULL, creator BLOB NOT NULL, kind BLOB NOT NULL, payload_hash BLOB NOT NULL,
    payload BLOB[] NOT NULL,
    min_tier UTINYINT NOT NULL, gpu_required BOOLEAN NOT NULL, cpu_threads USMALLINT NOT NULL,
    ram_gb USMALLINT NOT NULL, max_execution_time UBIGINT NOT NULL,
    amount BIGNUM NOT NULL,
    provider_bps USMALLINT NOT NULL, gas_bps USMALLINT NOT NULL, treasury_bps USMALLINT NOT NULL,
    created_at UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_task_cancelled (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    task_id UBIGINT NOT NULL, creator BLOB NOT NULL, refund BIGNUM NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_task_assigned (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    task_id UBIGINT NOT NULL, node BLOB NOT NULL, creator BLOB NOT NULL,
    assigned_at UBIGINT NOT NULL, deadline UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_task_completed (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    task_id UBIGINT NOT NULL, node BLOB NOT NULL, creator BLOB NOT NULL,
    result_hash BLOB NOT NULL, result BLOB[] NOT NULL,
    provider_amount BIGNUM NOT NULL, gas_amount BIGNUM NOT NULL, treasury_amount BIGNUM NOT NULL,
    completed_at UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_task_expired (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    task_id UBIGINT NOT NULL, node BLOB NOT NULL, creator BLOB NOT NULL, refund BIGNUM NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_node_registered (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    node BLOB NOT NULL, tier UTINYINT NOT NULL, gpu BOOLEAN NOT NULL, cpu_threads USMALLINT NOT NULL,
    ram_gb USMALLINT NOT NULL, registered_at UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_node_deactivated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    node BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_node_heartbeat (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    node BLOB NOT NULL, "timestamp" UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_node_suspended (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    node BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_node_reinstated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    node BLOB NOT NULL, status UTINYINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_scheduler_updated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "old" BLOB NOT NULL, "new" BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_treasury_updated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "old" BLOB NOT NULL, "new" BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_gas_recipient_updated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "old" BLOB NOT NULL, "new" BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_fee_config_updated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    provider_bps USMALLINT NOT NULL, gas_bps USMALLINT NOT NULL, treasury_bps USMALLINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_max_execution_time_updated (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "old" UBIGINT NOT NULL, "new" UBIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_tokens_rescued (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    token BLOB NOT NULL, "to" BLOB NOT NULL, amount BIGNUM NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_paused (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    account BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_unpaused (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    account BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_ownership_transfer_started (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    previous_owner BLOB NOT NULL, new_owner BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_ownership_transferred (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    previous_owner BLOB NOT NULL, new_owner BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_upgraded (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    class_hash BLOB NOT NULL
);

-- The payment token's events.

CREATE TABLE IF NOT EXISTS ev_transfer (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "from" BLOB NOT NULL, "to" BLOB NOT NULL, "value" BIGNUM NOT NULL
);

CREATE TABLE IF NOT EXISTS ev_approval (
    block_number UBIGINT NOT NULL, transaction_index UINTEGER NOT NULL, event_index UINTEGER NOT NULL,
    "owner" BLOB NOT NULL, spender BLOB NOT NULL, "value" BIGNUM NOT NULL
);

-- The current state, derived. Felts as normalised hex; amounts as BIGNUM; unset fields 0, as the
-- contract's views show them (docs/protocol.md "Views").

CREATE OR REPLACE MACRO felt_hex(b) AS
    '0x' || coalesce(nullif(ltrim(lower(hex(b)), '0'), ''), '0');

CREATE OR REPLACE VIEW tasks AS
SELECT
    c.task_id AS id,
    felt_hex(c.creator) AS creator,
    felt_hex(c.kind) AS kind,
    felt_hex(c.payload_hash) AS payload_hash,
    c.min_tier, c.gpu_required, c.cpu_threads, c.ram_gb, c.max_execution_time,
    c.amount,
    c.provider_bps, c.gas_bps, c.treasury_bps,
    CASE
        WHEN d.task_id IS NOT NULL THEN 3
        WHEN x.task_id IS NOT NULL THEN 4
        WHEN e.task_id IS NOT NULL THEN 5
        WHEN a.task_id IS NOT NULL THEN 2
        ELSE 1
    END::UTINYINT AS status,
    CASE WHEN a.task_id IS NULL THEN '0x0' ELSE felt_hex(a.node) END AS node,
    c.created_at,
    coalesce(a.assigned_at, 0)::UBIGINT AS assigned_at,
    coalesce(a.deadline, 0)::UBIGINT AS deadline,
    coalesce(d.completed_at, 0)::UBIGINT AS completed_at,
    CASE WHEN d.task_id IS NULL THEN '0x0' ELSE felt_hex(d.result_hash) END AS result_hash,
    c.block_number AS created_block
FROM ev_task_created c
LEFT JOIN ev_task_assigned a USING (task_id)
LEFT JOIN ev_task_completed d USING (task_id)
LEFT JOIN ev_task_cancelled x USING (task_id)
LEFT JOIN ev_task_expired e USING (task_id);

-- Node status follows the last lifecycle event: registered 1, deactivated 2, suspended 3,
-- reinstated to the status it carries.
CREATE OR REPLACE VIEW nodes AS
WITH lifecycle AS (
    SELECT node, (block_number, transaction_index, event_index) AS pos, 1 AS status
    FROM ev_node_registered
    UNION ALL
    SELECT node, (block_number, transaction_index, event_index), 2 FROM ev_node_deactivated
    UNION ALL
    SELECT node, (block_number, transaction_index, event_index), 3 FROM ev_node_suspended
    UNION ALL
    SELECT node, (block_number, transaction_index, event_index), status FROM ev_node_reinstated
),
status AS (SELECT node, arg_max(status, pos) AS status FROM lifecycle GROUP BY node),
registration AS (
    SELECT
        node,
        arg_max(tier, (block_number, transaction_index, event_index)) AS tier,
        arg_max(gpu, (block_number, transaction_index, event_index)) AS gpu,
        arg_max(cpu_threads, (block_number, transaction_index, event_index)) AS cpu_threads,
        arg_max(ram_gb, (block_number, transaction_index, event_index)) AS ram_gb,
        arg_min(registered_at, (block_number, transaction_index, event_index)) AS registered_at
    FROM ev_node_registered GROUP BY node
),
heartbeat AS (
    SELECT node, arg_max("timestamp", (block_number, transaction_index, event_index)) AS last_heartbeat
    FROM ev_node_heartbeat GROUP BY node
),
completed AS (
    SELECT node, count(*) AS completed_tasks, sum(provider_amount) AS earnings
    FROM ev_task_completed GROUP BY node
),
failed AS (SELECT node, count(*) AS failed_tasks FROM ev_task_expired GROUP BY node)
SELECT
    felt_hex(r.node) AS node,
    r.tier, r.gpu, r.cpu_threads, r.ram_gb,
    s.status::UTINYINT AS status,
    r.registered_at,
    coalesce(h.last_heartbeat, 0)::UBIGINT AS last_heartbeat,
    coalesce(c.completed_tasks, 0)::UBIGINT AS completed_tasks,
    coalesce(f.failed_tasks, 0)::UBIGINT AS failed_tasks,
    coalesce(c.earnings, '0'::BIGNUM) AS earnings
FROM registration r
JOIN status s USING (node)
LEFT JOIN heartbeat h USING (node)
LEFT JOIN completed c USING (node)
LEFT JOIN failed f USING (node);

-- get_user_tasks(user, offset, limit): a user's tasks, oldest first, with their position.
CREATE OR REPLACE VIEW user_tasks AS
SELECT
    felt_hex(creator) AS "user",
    (row_number() OVER (PARTITION BY creator ORDER BY task_id) - 1)::UBIGINT AS "index",
    task_id
FROM ev_task_created;

-- The treasury and the gas recipient over time (the constructor's, then each update), by
-- position: what a payout was sent to is the value at the payout's own position.
CREATE OR REPLACE VIEW treasury_history AS
SELECT (block_number, transaction_index, event_index) AS pos, treasury AS address
FROM ev_escrow_initialized
UNION ALL
SELECT (block_number, transaction_index, event_index), "new" FROM ev_treasury_updated;

CREATE OR REPLACE VIEW gas_recipient_history AS
SELECT (block_number, transaction_index, event_index) AS pos, gas_recipient AS address
FROM ev_escrow_initialized
UNION ALL
SELECT (block_number, transaction_index, event_index), "new" FROM ev_gas_recipient_updated;

-- What each completed task paid, and to whom (the gas recipient and treasury of that moment).
CREATE OR REPLACE VIEW payouts AS
SELECT
    d.task_id,
    felt_hex(d.node) AS node,
    felt_hex(d.creator) AS creator,
    d.provider_amount,
    d.gas_amount,
    felt_hex((
        SELECT arg_max(g.address, g.pos) FROM gas_recipient_history g
        WHERE g.pos <= (d.block_number, d.transaction_index, d.event_index)
    )) AS gas_recipient,
    d.treasury_amount,
    felt_hex((
        SELECT arg_max(t.address, t.pos) FROM treasury_history t
        WHERE t.pos <= (d.block_number, d.transaction_index, d.event_index)
    )) AS treasury,
    d.completed_at,
    d.block_number,
    d.transaction_index
FROM ev_task_completed d;

CREATE OR REPLACE VIEW transfers AS
SELECT
    block_number, transaction_index, event_index,
    felt_hex("from") AS "from", felt_hex("to") AS "to", "value"
FROM ev_transfer;

-- Every setting view of the escrow, as one row: the constructor's values, then each update.
CREATE OR REPLACE VIEW settings AS
WITH
init AS (SELECT * FROM ev_escrow_initialized LIMIT 1),
scheduler AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT scheduler AS v, (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT "new", (block_number, transaction_index, event_index) FROM ev_scheduler_updated)
),
treasury AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT treasury AS v, (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT "new", (block_number, transaction_index, event_index) FROM ev_treasury_updated)
),
gas_recipient AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT gas_recipient AS v, (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT "new", (block_number, transaction_index, event_index) FROM ev_gas_recipient_updated)
),
fees AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT (provider_bps, gas_bps, treasury_bps) AS v,
               (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT (provider_bps, gas_bps, treasury_bps), (block_number, transaction_index, event_index)
        FROM ev_fee_config_updated)
),
max_time AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT max_execution_time AS v, (block_number, transaction_index, event_index) AS pos
        FROM init
        UNION ALL
        SELECT "new", (block_number, transaction_index, event_index)
        FROM ev_max_execution_time_updated)
),
ownership AS (
    -- The last ownership event decides: started -> a pending owner; transferred -> a new owner.
    SELECT arg_max(v, pos) AS v FROM (
        SELECT {'owner': "owner", 'pending': NULL::BLOB} AS v,
               (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT {'owner': NULL::BLOB, 'pending': new_owner},
               (block_number, transaction_index, event_index) FROM ev_ownership_transfer_started
        UNION ALL
        SELECT {'owner': new_owner, 'pending': NULL::BLOB},
               (block_number, transaction_index, event_index) FROM ev_ownership_transferred)
),
owner_now AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT "owner" AS v, (block_number, transaction_index, event_index) AS pos FROM init
        UNION ALL
        SELECT new_owner, (block_number, transaction_index, event_index)
        FROM ev_ownership_transferred)
),
paused AS (
    SELECT arg_max(v, pos) AS v FROM (
        SELECT true AS v, (block_number, transaction_index, event_index) AS pos FROM ev_paused
        UNION ALL
        SELECT false, (block_number, transaction_index, event_index) FROM ev_unpaused)
),
upgraded AS (
    SELECT arg_max(class_hash, (block_number, transaction_index, event_index)) AS v FROM ev_upgraded
)
SELECT
    felt_hex((SELECT v FROM owner_now)) AS "owner",
    coalesce(felt_hex((SELECT v FROM ownership).pending), '0x0') AS pending_owner,
    felt_hex(init.payment_token) AS payment_token,
    felt_hex((SELECT v FROM scheduler)) AS scheduler,
    felt_hex((SELECT v FROM treasury)) AS treasury,
    felt_hex((SELECT v FROM gas_recipient)) AS gas_recipient,
    (SELECT v FROM fees)[1]::USMALLINT AS provider_bps,
    (SELECT v FROM fees)[2]::USMALLINT AS gas_bps,
    (SELECT v FROM fees)[3]::USMALLINT AS treasury_bps,
    (SELECT v FROM max_time)::UBIGINT AS max_execution_time,
    coalesce((SELECT v FROM paused), false) AS is_paused,
    (SELECT coalesce(sum(amount), '0'::BIGNUM) FROM tasks WHERE status IN (1, 2)) AS escrowed_amount,
    (SELECT count(*) FROM ev_task_created)::UBIGINT AS task_count,
    CASE WHEN (SELECT v FROM upgraded) IS NULL THEN NULL ELSE felt_hex((SELECT v FROM upgraded)) END
        AS class_hash
FROM init;
