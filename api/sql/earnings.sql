-- What one address received from settlements: as provider, gas recipient or treasury.
SELECT task_id, role, amount, block_number,
       (SELECT felt_hex(any_value(r.transaction_hash)) FROM raw_events r
        WHERE r.block_number = p.block_number AND r.transaction_index = p.transaction_index)
           AS transaction_hash
FROM (
    SELECT task_id, 'provider' AS role, provider_amount::VARCHAR AS amount, block_number,
           transaction_index
    FROM payouts WHERE node = $address
    UNION ALL
    SELECT task_id, 'gas', gas_amount::VARCHAR, block_number, transaction_index
    FROM payouts WHERE gas_recipient = $address
    UNION ALL
    SELECT task_id, 'treasury', treasury_amount::VARCHAR, block_number, transaction_index
    FROM payouts WHERE treasury = $address
) p
ORDER BY block_number, task_id, role
