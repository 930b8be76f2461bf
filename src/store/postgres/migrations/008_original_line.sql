-- As SQLite's 004_original_line: the original line is named, capped and measured, and keys
-- read from lines whose fields may have moved go.
ALTER TABLE etl_rejects RENAME COLUMN raw TO original_line;
ALTER TABLE etl_rejects ADD COLUMN original_bytes bigint;
UPDATE etl_rejects SET original_bytes = octet_length(original_line), original_line = left(original_line, 4096)
 WHERE original_line IS NOT NULL;
UPDATE etl_rejects SET row_key = NULL WHERE code IN ('ETL_PARSE_BAD_QUOTE', 'ETL_PARSE_UNTERMINATED_QUOTE', 'ETL_PARSE_FIELD_COUNT');
