INSERT OR REPLACE INTO smainer_meta VALUES ($key, $value)
