-- The compact history, packed: one row per run, table and op, holding up to 1,000 entries in the
-- order of the changes, as a JSON array of [change id, key] or, for an update or reactivation,
-- [change id, key, changes]: one array of small ones, since reading an element of a long array
-- by its index parses the array up to it (a thousand of them took seconds). A row per entry cost
-- ~75 bytes for an entry whose key is ten (a 1,500-student school's 160 entries a night, 12 KB);
-- packed, a night is a handful of rows. etl_history becomes the view of the entries, with the
-- columns the table had; read by school and table, pruned by school and run.
CREATE TABLE etl_history_packed (
  school_id TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  op TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  entries TEXT NOT NULL,
  PRIMARY KEY (school_id, run_id, first_seq)
) WITHOUT ROWID;
CREATE INDEX etl_history_packed_row ON etl_history_packed (school_id, table_name);

-- The entries kept so far, packed the same way.
INSERT INTO etl_history_packed (school_id, run_id, table_name, op, first_seq, entries)
SELECT school_id, run_id, table_name, op, min(seq),
  json_group_array(CASE WHEN changes IS NULL THEN json_array(seq, row_key) ELSE json_array(seq, row_key, json(changes)) END
    ORDER BY seq)
FROM (SELECT h.*, (row_number() OVER (PARTITION BY h.run_id, h.table_name, h.op ORDER BY h.seq) - 1) / 1000 AS chunk
        FROM etl_history AS h)
GROUP BY school_id, run_id, table_name, op, chunk;

DROP VIEW cases_history;
DROP VIEW etl_history_all;
DROP TABLE etl_history;

-- One row per entry, as the table was.
CREATE VIEW etl_history AS
SELECT json_extract(e.value, '$[0]') AS seq, p.run_id, p.school_id, p.table_name, json_extract(e.value, '$[1]') AS row_key,
  p.op, json_extract(e.value, '$[2]') AS changes
FROM etl_history_packed AS p, json_each(p.entries) AS e;

-- As in 006, over the view.
CREATE VIEW etl_history_all AS
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_recent
UNION ALL
SELECT h.seq, h.school_id, h.table_name, h.row_key, h.run_id, r.finished_at, h.op, h.changes
  FROM etl_history AS h JOIN etl_runs AS r ON r.id = h.run_id
UNION ALL
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_held;

CREATE VIEW cases_history AS
SELECT h.school_id, h.table_name, h.row_key, h.run_id, h.run_time, h.op,
  CASE WHEN h.op IN ('updated', 'reactivated') AND h.changes IS NOT NULL
    THEN (SELECT json_group_array(k.key) FROM json_each(h.changes) AS k) ELSE '[]' END AS changed_columns
FROM etl_history_all AS h
ORDER BY h.run_id, h.seq;
