-- A rolled-back run's status becomes rolled_back; what it finished as is kept beside it, so that
-- counters of runs by outcome (/metrics) never go down. Runs rolled back before this column
-- existed: a run that rejected or deferred rows published as warning, else as succeeded.
ALTER TABLE etl_runs ADD COLUMN finished_as TEXT;
UPDATE etl_runs SET finished_as = CASE WHEN rejected > 0 OR deferred > 0 THEN 'warning' ELSE 'succeeded' END
 WHERE status = 'rolled_back';
