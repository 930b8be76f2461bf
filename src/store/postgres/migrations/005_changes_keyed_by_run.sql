-- Changes are only ever read and deleted a run at a time, in id order: one index on (run_id,
-- id) serves both, and keeping a second one on id alone cost a quarter of logging a change.
ALTER TABLE etl_changes DROP CONSTRAINT etl_changes_pkey;
DROP INDEX IF EXISTS etl_changes_run;
ALTER TABLE etl_changes ADD CONSTRAINT etl_changes_pkey PRIMARY KEY (run_id, id);
