-- A task's completion: its result and the three payouts, and where it is in the chain.
SELECT result, provider_amount::VARCHAR AS provider_amount, gas_amount::VARCHAR AS gas_amount,
       treasury_amount::VARCHAR AS treasury_amount, block_number, transaction_index, event_index
FROM ev_task_completed
WHERE task_id = $id::UBIGINT
