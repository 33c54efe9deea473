-- The gas recipient and treasury in force at a chain position (what a payout there paid to).
SELECT
    felt_hex((SELECT arg_max(address, pos) FROM gas_recipient_history
              WHERE pos <= ($block::UBIGINT, $tx::UINTEGER, $ev::UINTEGER))) AS gas_recipient,
    felt_hex((SELECT arg_max(address, pos) FROM treasury_history
              WHERE pos <= ($block::UBIGINT, $tx::UINTEGER, $ev::UINTEGER))) AS treasury
