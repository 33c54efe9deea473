-- Forget the rows of some tasks ($ids) before task_state_insert.sql derives them again.
DELETE FROM task_state WHERE id IN (SELECT unnest($ids::UBIGINT[]))
