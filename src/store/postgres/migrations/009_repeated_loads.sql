-- As SQLite's 005_repeated_loads: how each file's lines were read, and the run whose load of the
-- same bytes a file repeated (so it was not read again): see plan/unchanged.ts.
ALTER TABLE etl_run_files ADD COLUMN read_as text, ADD COLUMN unchanged_since bigint;
