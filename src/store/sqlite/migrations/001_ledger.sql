CREATE TABLE etl_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  school_id TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  job_id TEXT,
  dry_run INTEGER NOT NULL DEFAULT 0,
  source_dir TEXT,
  host TEXT,
  pid INTEGER,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER,
  files INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0,
  rows_loaded INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  error_rate REAL NOT NULL DEFAULT 0,
  inserted INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  deactivated INTEGER NOT NULL DEFAULT 0,
  reactivated INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0,
  fileset_sha256 TEXT,
  overrides TEXT NOT NULL DEFAULT '[]',
  reason TEXT,
  error_code TEXT,
  archive_path TEXT
);
CREATE INDEX etl_runs_school ON etl_runs (school_id, id);
CREATE INDEX etl_runs_fileset ON etl_runs (school_id, fileset_sha256);
CREATE TABLE etl_run_files (
  run_id INTEGER NOT NULL REFERENCES etl_runs (id),
  file_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  table_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  records INTEGER NOT NULL,
  rows_loaded INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  inserted INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  deactivated INTEGER NOT NULL,
  reactivated INTEGER NOT NULL,
  unchanged INTEGER NOT NULL,
  error TEXT,
  PRIMARY KEY (run_id, file_name)
);
CREATE TABLE etl_rejects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES etl_runs (id),
  file_name TEXT NOT NULL,
  line INTEGER NOT NULL,
  row_key TEXT,
  field TEXT,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  raw TEXT
);
CREATE INDEX etl_rejects_run ON etl_rejects (run_id);
CREATE TABLE etl_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES etl_runs (id),
  school_id TEXT NOT NULL,
  table_name TEXT NOT NULL,
  row_key TEXT NOT NULL,
  op TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE INDEX etl_changes_run ON etl_changes (run_id, id);
