SELECT value FROM smainer_meta WHERE key = $key
