-- Row history (cases-etl history, the cases_history view). etl_changes keeps the newest
-- ETL_SNAPSHOT_RETENTION runs in full for rollback; as a run leaves that window its changes
-- move here in compact form (pruneChanges): which columns changed, from what to what, as text;
-- nothing for an insert or a deactivation. A school's rows of runs that finished more than
-- ETL_HISTORY_DAYS ago are pruned, by run (a school's runs finish in id order). `seq` is the
-- change's id in etl_changes (its order within the run); the run's time is etl_runs'. Kept in
-- run order, so that pruning deletes a range; read by school, table and key.
CREATE TABLE etl_history (
  school_id TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  row_key TEXT NOT NULL,
  op TEXT NOT NULL,
  changes TEXT,
  PRIMARY KEY (school_id, run_id, seq)
) WITHOUT ROWID;
CREATE INDEX etl_history_row ON etl_history (school_id, table_name, row_key);

-- The window, in the same compact form: each change of a published run (not rolled back, not a
-- dry run) with its op as history names it and, for an update or reactivation, the columns its
-- images differ in, {"column": [from, to]} in column name order, values as text (null for null).
-- Images leave out null columns, so a column in one image only changed from or to null. A
-- decimal column (NUMERIC affinity) stores 12.50 as the number 12.5 while the after image keeps
-- the file's text: a number and a text are the same value when the text reads as that number.
-- Bookkeeping columns and the school are not values. Written for SQLite 3.38 and later (JSON
-- built in), without FULL JOIN or ORDER BY inside an aggregate, so that older sqlite3 shells
-- and libraries can still open the file.
CREATE VIEW etl_history_recent AS
SELECT c.id AS seq, c.school_id, c.table_name, c.row_key, c.run_id, r.finished_at AS run_time,
  CASE c.op WHEN 'insert' THEN 'inserted' WHEN 'update' THEN 'updated' WHEN 'deactivate' THEN 'deactivated'
    WHEN 'reactivate' THEN 'reactivated' ELSE c.op END AS op,
  CASE WHEN c.op IN ('update', 'reactivate') THEN (
    SELECT NULLIF(json_group_object(d.col, json_array(CAST(d.was AS TEXT), CAST(d.became AS TEXT))), '{}')
      FROM (SELECT k.key AS col, b.value AS was, b.type AS was_type, a.value AS became, a.type AS became_type
              FROM (SELECT key FROM json_each(c.before) UNION SELECT key FROM json_each(c.after)) AS k
              LEFT JOIN json_each(c.before) AS b ON b.key = k.key
              LEFT JOIN json_each(c.after) AS a ON a.key = k.key
             WHERE k.key NOT IN ('school_id', '_active', '_hash', '_line_hash', '_inserted_run', '_changed_run', '_deactivated_run')
               AND b.value IS NOT a.value
               AND NOT coalesce((b.type IN ('integer', 'real') AND a.type = 'text' AND CAST(a.value AS REAL) = b.value)
                 OR (a.type IN ('integer', 'real') AND b.type = 'text' AND CAST(b.value AS REAL) = a.value), 0)
             ORDER BY k.key) AS d)
  END AS changes
FROM etl_changes AS c JOIN etl_runs AS r ON r.id = c.run_id AND r.school_id = c.school_id
WHERE r.status IN ('succeeded', 'warning') AND r.dry_run = 0;

-- Rows a published run held: its file had the row rejected, with a key it could trust, so the
-- stored row kept its last version (see validate/validator.ts: a duplicate key loads the first
-- row, and a line whose fields may have moved holds nothing). One entry per run, table and key,
-- with the rejects' fields and codes (never values). Rejects store keys as people read them
-- (parts joined by " | "), changes by U+001F.
CREATE VIEW etl_history_held AS
SELECT min(j.id) AS seq, r.school_id, f.table_name, replace(j.row_key, ' | ', char(31)) AS row_key, r.id AS run_id,
  r.finished_at AS run_time, 'held' AS op,
  json_group_array(json_object('field', j.field, 'code', j.code)) AS changes
FROM etl_runs AS r
JOIN etl_rejects AS j ON j.run_id = r.id
JOIN etl_run_files AS f ON f.run_id = j.run_id AND f.file_name = j.file_name
WHERE r.status IN ('succeeded', 'warning') AND r.dry_run = 0 AND j.row_key IS NOT NULL
  AND j.code <> 'ETL_ROW_DUPLICATE_KEY'
  AND (j.code NOT LIKE 'ETL\_PARSE\_%' ESCAPE '\' OR j.code IN ('ETL_PARSE_ENCODING_INVALID', 'ETL_PARSE_ENCODING_MISMATCH'))
GROUP BY r.school_id, f.table_name, replace(j.row_key, ' | ', char(31)), r.id, r.finished_at;

-- Everything history knows, for cases-etl history: the window, the compact history, the held rows.
CREATE VIEW etl_history_all AS
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_recent
UNION ALL
SELECT h.seq, h.school_id, h.table_name, h.row_key, h.run_id, r.finished_at, h.op, h.changes
  FROM etl_history AS h JOIN etl_runs AS r ON r.id = h.run_id
UNION ALL
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_held;

-- For SQL users: every published change to a row, oldest first, without the values (personal
-- data). changed_columns names the columns an update or reactivation changed, as a JSON array
-- of text ('[]' otherwise): WHERE changed_columns LIKE '%"home_group"%', or
-- WHERE EXISTS (SELECT 1 FROM json_each(changed_columns) WHERE value = 'home_group').
CREATE VIEW cases_history AS
SELECT h.school_id, h.table_name, h.row_key, h.run_id, h.run_time, h.op,
  CASE WHEN h.op IN ('updated', 'reactivated') AND h.changes IS NOT NULL
    THEN (SELECT json_group_array(k.key) FROM json_each(h.changes) AS k) ELSE '[]' END AS changed_columns
FROM etl_history_all AS h
ORDER BY h.run_id, h.seq;
