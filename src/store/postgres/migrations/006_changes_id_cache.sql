-- Every logged change takes an id. Uncached, each nextval locks the sequence's page and every
-- 32nd writes WAL: a fifth of logging a first load. A run writes its changes from one session,
-- which hands out its cached ids in order, so within a run (all the key orders by) ids still
-- follow the changes; across concurrent runs they interleave, which nothing reads.
ALTER SEQUENCE etl_changes_id_seq CACHE 1024;
