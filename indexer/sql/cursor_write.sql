-- Written in the same transaction as the batch it covers.
INSERT OR REPLACE INTO cursor VALUES (0, $number, $hash, now())
