-- How each file's lines were read, and the run whose load of the same bytes a file repeated
-- (so it was not read again): see plan/unchanged.ts.
ALTER TABLE etl_run_files ADD COLUMN read_as TEXT;
ALTER TABLE etl_run_files ADD COLUMN unchanged_since INTEGER;
