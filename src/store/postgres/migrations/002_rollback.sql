ALTER TABLE etl_runs ADD COLUMN rollback_id bigint;
ALTER TABLE etl_runs ADD COLUMN changes_pruned boolean NOT NULL DEFAULT false;
CREATE TABLE etl_rollbacks (
  id bigserial PRIMARY KEY,
  school_id text NOT NULL,
  target_run_id bigint NOT NULL REFERENCES etl_runs (id),
  run_ids jsonb NOT NULL,
  requested_by text NOT NULL,
  reason text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  rows_deleted integer NOT NULL DEFAULT 0,
  rows_restored integer NOT NULL DEFAULT 0,
  detail jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX etl_rollbacks_school ON etl_rollbacks (school_id, id);
