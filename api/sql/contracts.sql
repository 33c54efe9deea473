SELECT name, felt_hex(address) AS address FROM contracts
