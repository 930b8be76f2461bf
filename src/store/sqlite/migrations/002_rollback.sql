ALTER TABLE etl_runs ADD COLUMN rollback_id INTEGER;
ALTER TABLE etl_runs ADD COLUMN changes_pruned INTEGER NOT NULL DEFAULT 0;
CREATE TABLE etl_rollbacks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  school_id TEXT NOT NULL,
  target_run_id INTEGER NOT NULL REFERENCES etl_runs (id),
  run_ids TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  reason TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  rows_deleted INTEGER NOT NULL DEFAULT 0,
  rows_restored INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX etl_rollbacks_school ON etl_rollbacks (school_id, id);
