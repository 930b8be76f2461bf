-- The compact history, packed: one row per run, table and op, holding up to 1,000 keys (in the
-- order of the changes) with their change ids and, for updates and reactivations, their changes
-- (arrays in the same order; unnested together, each read once). A row per entry cost ~115 bytes on PostgreSQL (tuple header, two index entries) for
-- an entry whose key is ten: a 1,500-student school's 160 entries a night grew its database by
-- 18 KB a night, as much again as the rows that changed. Packed, a night is a handful of rows,
-- compressed past 128 bytes (keys of one table share their shape).
-- etl_history becomes the view of the entries, with the columns the table had (`seq`, each
-- change's id in etl_changes, orders the entries of a run).
CREATE TABLE etl_history_packed (
  run_id bigint NOT NULL,
  school_id text NOT NULL,
  table_name text NOT NULL,
  op text NOT NULL,
  seqs bigint[] NOT NULL,
  row_keys text[] NOT NULL,
  changes json[]
) WITH (toast_tuple_target = 128);
CREATE INDEX etl_history_packed_row ON etl_history_packed (school_id, table_name);
CREATE INDEX etl_history_packed_run ON etl_history_packed (school_id, run_id);

-- The entries kept so far, packed the same way.
INSERT INTO etl_history_packed (run_id, school_id, table_name, op, seqs, row_keys, changes)
SELECT run_id, school_id, table_name, op, array_agg(seq ORDER BY seq), array_agg(row_key ORDER BY seq),
  CASE WHEN count(changes) = 0 THEN NULL ELSE array_agg(changes ORDER BY seq) END
FROM (SELECT h.*, (row_number() OVER (PARTITION BY h.run_id, h.table_name, h.op ORDER BY h.seq) - 1) / 1000 AS chunk
        FROM etl_history AS h) AS e
GROUP BY run_id, school_id, table_name, op, chunk;

DROP VIEW cases_history;
DROP VIEW etl_history_all;
DROP TABLE etl_history;

-- One row per entry, as the table was (a row of inserts or deactivations has no changes array).
CREATE VIEW etl_history AS
SELECT e.seq, p.run_id, p.school_id, p.table_name, e.row_key, p.op, e.changes
FROM etl_history_packed AS p CROSS JOIN LATERAL unnest(p.seqs, p.row_keys, p.changes) AS e(seq, row_key, changes);

-- As in 010, over the view.
CREATE VIEW etl_history_all AS
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_recent
UNION ALL
SELECT h.seq, h.school_id, h.table_name, h.row_key, h.run_id, r.finished_at, h.op, h.changes
  FROM etl_history AS h JOIN etl_runs AS r ON r.id = h.run_id
UNION ALL
SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_held;

CREATE VIEW cases_history AS
SELECT h.school_id, h.table_name, h.row_key, h.run_id, h.run_time, h.op,
  CASE WHEN h.op IN ('updated', 'reactivated') THEN ARRAY(SELECT json_object_keys(h.changes)) ELSE '{}'::text[] END
    AS changed_columns
FROM etl_history_all AS h
ORDER BY h.run_id, h.seq;
