-- The original line is personal data, shown only to an admin who asks: named for what it is,
-- capped, with its full length beside it. Lines stored before were kept whole and records
-- broken by a quote, a stray delimiter or a bad fixed-width line got (part of) the line as
-- their key: both are cut back here (to the default cap, in characters), and those keys go.
ALTER TABLE etl_rejects RENAME COLUMN raw TO original_line;
ALTER TABLE etl_rejects ADD COLUMN original_bytes INTEGER;
UPDATE etl_rejects SET original_bytes = length(CAST(original_line AS BLOB)), original_line = substr(original_line, 1, 4096)
 WHERE original_line IS NOT NULL;
UPDATE etl_rejects SET row_key = NULL WHERE code IN ('ETL_PARSE_BAD_QUOTE', 'ETL_PARSE_UNTERMINATED_QUOTE', 'ETL_PARSE_FIELD_COUNT');
