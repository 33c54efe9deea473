SELECT payment_token, provider_bps, gas_bps, treasury_bps, max_execution_time, is_paused
FROM settings
