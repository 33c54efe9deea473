-- Blocks at or below the node's l1_accepted block are final: one statement, whatever their count.
UPDATE blocks SET finality = 'ACCEPTED_ON_L1' WHERE block_number <= $number AND finality <> 'ACCEPTED_ON_L1'
