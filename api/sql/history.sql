-- Every payment-token movement between one address ($address, 32-byte felt) and the escrow.
WITH escrow AS (SELECT address FROM contracts WHERE name = 'Escrow')
SELECT CASE WHEN t."to" = (SELECT address FROM escrow) THEN 'in' ELSE 'out' END AS direction,
       t."value"::VARCHAR AS amount, t.block_number, felt_hex(r.transaction_hash) AS tx_hash,
       b."timestamp"
FROM ev_transfer t
JOIN raw_events r USING (block_number, transaction_index, event_index)
LEFT JOIN blocks b USING (block_number)
WHERE (t."from" = $address AND t."to" = (SELECT address FROM escrow))
   OR (t."from" = (SELECT address FROM escrow) AND t."to" = $address)
ORDER BY t.block_number, t.transaction_index, t.event_index
