-- Row history (cases-etl history, the cases_history view). etl_changes keeps the newest
-- ETL_SNAPSHOT_RETENTION runs in full for rollback; as a run leaves that window its changes
-- move here in compact form (pruneChanges): which columns changed, from what to what, as text;
-- nothing for an insert or a deactivation. A school's rows of runs that finished more than
-- ETL_HISTORY_DAYS ago are pruned, by run (a school's runs finish in id order). `seq` is the
-- change's id in etl_changes (its order within the run); the run's time is etl_runs'. Read by
-- school, table and key; pruned by school and run.
CREATE TABLE etl_history (
  seq bigint NOT NULL,
  run_id bigint NOT NULL,
  school_id text NOT NULL,
  table_name text NOT NULL,
  row_key text NOT NULL,
  op text NOT NULL,
  changes json
);
CREATE INDEX etl_history_row ON etl_history (school_id, table_name, row_key);
CREATE INDEX etl_history_run ON etl_history (school_id, run_id);

-- The window, in the same compact form: each change of a published run (not rolled back, not a
-- dry run) with its op as history names it and, for an update or reactivation, the columns its
-- images differ in, {"column": [from, to]} in column name order, values as text (null for null).
-- Images leave out null columns, so a column in one image only changed from or to null. Before
-- images hold timestamps as to_json writes them (2024-02-01T08:30:00), after images as the
-- validator does (2024-02-01 08:30:00): both are read in the validator's form. Bookkeeping
-- columns and the school are not values.
CREATE VIEW etl_history_recent AS
SELECT c.id AS seq, c.school_id, c.table_name, c.row_key, c.run_id, r.finished_at AS run_time,
  CASE c.op WHEN 'insert' THEN 'inserted' WHEN 'update' THEN 'updated' WHEN 'deactivate' THEN 'deactivated'
    WHEN 'reactivate' THEN 'reactivated' ELSE c.op END AS op,
  CASE WHEN c.op IN ('update', 'reactivate') THEN (
    SELECT json_object_agg(d.col, json_build_array(d.was, d.became) ORDER BY d.col COLLATE "C")
      FROM (SELECT coalesce(b.key, a.key) AS col,
                   regexp_replace(b.value, '^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)', '\1 \2') AS was,
                   regexp_replace(a.value, '^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)', '\1 \2') AS became
              FROM json_each_text(c.before) AS b FULL JOIN json_each_text(c.after) AS a ON a.key = b.key) AS d
     WHERE d.col NOT IN ('school_id', '_active', '_hash', '_line_hash', '_inserted_run', '_changed_run', '_deactivated_run')
       AND d.was IS DISTINCT FROM d.became)
  END AS changes
FROM etl_changes AS c JOIN etl_runs AS r ON r.id = c.run_id AND r.school_id = c.school_id
WHERE r.status IN ('succeeded', 'warning') AND NOT r.dry_run;

-- Rows a published run held: its file had the row rejected, with a key it could trust, so the
-- stored row kept its last version (see validate/validator.ts: a duplicate key loads the first
-- row, and a line whose fields may have moved holds nothing). One entry per run, table and key,
-- with the rejects' fields and codes (never values). Rejects store keys as people read them
-- (parts joined by " | "), changes by U+001F.
CREATE VIEW etl_history_held AS
SELECT min(j.id) AS seq, r.school_id, f.table_name, replace(j.row_key, ' | ', chr(31)) AS row_key, r.id AS run_id,
  r.finished_at AS run_time, 'held'::text AS op,
  json_agg(json_build_object('field', j.field, 'code', j.code) ORDER BY j.id) AS changes
FROM etl_runs AS r
JOIN etl_rejects AS j ON j.run_id = r.id
JOIN etl_run_files AS f ON f.run_id = j.run_id AND f.file_name = j.file_name
WHERE r.status IN ('succeeded', 'warning') AND NOT r.dry_run AND j.row_key IS NOT NULL
  AND j.code <> 'ETL_ROW_DUPLICATE_KEY'
  AND (j.code NOT LIKE 'ETL\_PARSE\_%' OR j.code IN ('ETL_PARSE_ENCODING_INVALID', 'ETL_PARSE_ENCODING_MISMATCH'))
GROUP BY r.school_id, f.table_name, replace(j.row_key, ' | ', chr(31)), r.id, r.finished_at;

-- Everything history knows, for cases-etl history: the window, the compact history, the held rows.
CREATE VIEW etl_history_all AS
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_recent
UNION ALL
SELECT h.seq, h.school_id, h.table_name, h.row_key, h.run_id, r.finished_at, h.op, h.changes
  FROM etl_history AS h JOIN etl_runs AS r ON r.id = h.run_id
UNION ALL
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_held;

-- For SQL users: every published change to a row, oldest first, without the values (personal
-- data). changed_columns names the columns an update or reactivation changed (empty otherwise):
-- WHERE 'home_group' = ANY(changed_columns).
CREATE VIEW cases_history AS
SELECT h.school_id, h.table_name, h.row_key, h.run_id, h.run_time, h.op,
  CASE WHEN h.op IN ('updated', 'reactivated') THEN ARRAY(SELECT json_object_keys(h.changes)) ELSE '{}'::text[] END
    AS changed_columns
FROM etl_history_all AS h
ORDER BY h.run_id, h.seq;
