-- Rejected rows held at their last version, and deactivations put off by keyless rejects.
ALTER TABLE etl_runs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE etl_runs ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE etl_run_files ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE etl_run_files ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
