CREATE TABLE etl_runs (
  id bigserial PRIMARY KEY,
  school_id text NOT NULL,
  status text NOT NULL,
  trigger text NOT NULL,
  job_id text,
  dry_run boolean NOT NULL DEFAULT false,
  source_dir text,
  host text,
  pid integer,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  files integer NOT NULL DEFAULT 0,
  records integer NOT NULL DEFAULT 0,
  rows_loaded integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  error_rate double precision NOT NULL DEFAULT 0,
  inserted integer NOT NULL DEFAULT 0,
  updated integer NOT NULL DEFAULT 0,
  deactivated integer NOT NULL DEFAULT 0,
  reactivated integer NOT NULL DEFAULT 0,
  unchanged integer NOT NULL DEFAULT 0,
  fileset_sha256 text,
  overrides jsonb NOT NULL DEFAULT '[]',
  reason text,
  error_code text,
  archive_path text
);
CREATE INDEX etl_runs_school ON etl_runs (school_id, id);
CREATE INDEX etl_runs_fileset ON etl_runs (school_id, fileset_sha256);
CREATE TABLE etl_run_files (
  run_id bigint NOT NULL REFERENCES etl_runs (id),
  file_name text NOT NULL,
  table_name text NOT NULL,
  table_id text NOT NULL,
  mode text NOT NULL,
  sha256 text NOT NULL,
  bytes bigint NOT NULL,
  records integer NOT NULL,
  rows_loaded integer NOT NULL,
  rejected integer NOT NULL,
  inserted integer NOT NULL,
  updated integer NOT NULL,
  deactivated integer NOT NULL,
  reactivated integer NOT NULL,
  unchanged integer NOT NULL,
  error text,
  PRIMARY KEY (run_id, file_name)
);
CREATE TABLE etl_rejects (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES etl_runs (id),
  file_name text NOT NULL,
  line integer NOT NULL,
  row_key text,
  field text,
  code text NOT NULL,
  message text NOT NULL,
  raw text
);
CREATE INDEX etl_rejects_run ON etl_rejects (run_id);
CREATE TABLE etl_changes (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES etl_runs (id),
  school_id text NOT NULL,
  table_name text NOT NULL,
  row_key text NOT NULL,
  op text NOT NULL,
  before jsonb,
  after jsonb
);
CREATE INDEX etl_changes_run ON etl_changes (run_id, id);
