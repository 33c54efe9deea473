-- Tasks with an event above a block: those a rollback to that block changes.
SELECT task_id FROM ev_task_created WHERE block_number > $block
UNION SELECT task_id FROM ev_task_assigned WHERE block_number > $block
UNION SELECT task_id FROM ev_task_completed WHERE block_number > $block
UNION SELECT task_id FROM ev_task_cancelled WHERE block_number > $block
UNION SELECT task_id FROM ev_task_expired WHERE block_number > $block
