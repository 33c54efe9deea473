SELECT name, address FROM contracts ORDER BY name
