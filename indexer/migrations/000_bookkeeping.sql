-- 000: what marks a DuckDB file as a Smainer index, and which migrations it has.
--
-- The runner (indexer/migrate.py) refuses any file that has tables but no
-- smainer_meta.application = 'smainer-indexer', or a schema_version above the newest migration
-- it knows: such a file is someone else's, or written by a newer Smainer.

CREATE TABLE IF NOT EXISTS smainer_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

INSERT OR IGNORE INTO smainer_meta VALUES ('application', 'smainer-indexer');
