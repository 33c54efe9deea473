SELECT block_number FROM cursor
