-- Column names and types of the decoded-event tables: how the sink converts each value.
SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE table_name LIKE 'ev\_%' ESCAPE '\' ORDER BY table_name, column_index
