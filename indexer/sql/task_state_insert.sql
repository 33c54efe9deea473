-- Derive the rows of some tasks ($ids; NULL: every task) from their events (the table macro
-- task_state_rows, migration 002), in the transaction that changed those events.
INSERT INTO task_state SELECT * FROM task_state_rows($ids::UBIGINT[]) ORDER BY id
