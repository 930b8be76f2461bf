-- Images are written as json (see IMAGE) and read whole; jsonb's parsing and key sorting
-- bought nothing and cost most of logging an update.
ALTER TABLE etl_changes ALTER COLUMN before TYPE json USING before::json, ALTER COLUMN after TYPE json USING after::json;
