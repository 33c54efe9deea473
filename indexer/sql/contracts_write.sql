INSERT INTO contracts VALUES ($name, $address)
