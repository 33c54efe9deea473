-- Network totals for /stats, one row, each from one event table rather than the tasks view
-- (which joins every task): settled is what completions paid out (the split of each amount),
-- escrowed what was paid in and has not left (docs/protocol.md, "Fee arithmetic": the three shares add up to the amount; a refund is the
-- whole amount).
WITH
created AS (SELECT coalesce(sum(amount), '0'::BIGNUM) AS total FROM ev_task_created),
refunds AS (
    SELECT coalesce(sum(refund), '0'::BIGNUM) AS total FROM (
        SELECT refund FROM ev_task_cancelled UNION ALL SELECT refund FROM ev_task_expired)
),
paid AS (
    SELECT coalesce(sum(provider_amount), '0'::BIGNUM) AS providers,
           coalesce(sum(gas_amount), '0'::BIGNUM) AS gas,
           coalesce(sum(treasury_amount), '0'::BIGNUM) AS treasury
    FROM ev_task_completed
)
SELECT
    (SELECT count(*) FROM nodes WHERE status = 1) AS nodes_active,
    (SELECT count(*) FROM nodes) AS nodes_total,
    ((SELECT total FROM created) - (SELECT total FROM refunds)
        - (SELECT providers + gas + treasury FROM paid))::VARCHAR AS escrowed,
    (SELECT providers + gas + treasury FROM paid)::VARCHAR AS settled,
    (SELECT total FROM refunds)::VARCHAR AS refunded,
    (SELECT providers FROM paid)::VARCHAR AS paid_to_providers,
    (SELECT gas FROM paid)::VARCHAR AS paid_to_gas,
    (SELECT treasury FROM paid)::VARCHAR AS paid_to_treasury,
    (SELECT median(d.completed_at::BIGINT - c.created_at::BIGINT)
     FROM ev_task_completed d JOIN ev_task_created c USING (task_id)) AS median_completion,
    (SELECT coalesce(max("timestamp"), 0) FROM blocks) AS now,
    (SELECT max(block_number) FROM cursor) AS indexed_block
