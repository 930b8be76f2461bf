import type { ErrorCode, Notice, Reject } from '../errors/index.js';
import { readCsvRecords, readFixedRecords, type FileColumns, type RecordBatch, type SourceFile } from '../extract/index.js';
import { createRowValidator, type RowValidator, type TypedRow } from './validator.js';

/** Typed rows and rejects from one stretch of a file. */
export interface ValidatedBatch {
  readonly columns: FileColumns;
  readonly rows: readonly TypedRow[];
  readonly rejects: readonly Reject[];
  /** Records read in this batch (rows plus rejected records). */
  readonly records: number;
}

/** Why a whole file could not be read as a table. */
export interface FileFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * Reads one source file into typed rows and rejects, batch by batch. Whole-file findings collect
 * in `notices`; a file that cannot be read as a table sets `failure` and yields nothing.
 * I/O errors are thrown: they are infrastructure, not data.
 */
export interface ValidatedFileReader {
  readonly notices: readonly Notice[];
  readonly failure: FileFailure | null;
  batches(): AsyncGenerator<ValidatedBatch>;
}

export function createValidatedFileReader(file: SourceFile): ValidatedFileReader {
  const notices: Notice[] = [];
  let failure: FileFailure | null = null;
  const layout = file.layout;

  async function* batches(): AsyncGenerator<ValidatedBatch> {
    if (layout.keyProblem !== null) {
      failure = { code: 'ETL_LAYOUT_NO_KEY', message: layout.keyProblem };
      return;
    }
    const source: AsyncGenerator<RecordBatch> =
      layout.format === 'fixed'
        ? readFixedRecords(file.path, layout)
        : readCsvRecords(file.path, file.name, layout, (n) => notices.push(n), (p) => (failure = p));
    let validator: RowValidator | null = null;
    let columns: FileColumns | null = null;
    for await (const batch of source) {
      if (batch.columns !== columns) {
        columns = batch.columns;
        validator = createRowValidator(file.name, columns, layout);
        const absentRequired = columns.columns.slice(columns.present).filter((c) => c.required);
        if (absentRequired.length > 0) {
          notices.push({ severity: 'warning', code: 'ETL_PARSE_MISSING_COLUMNS', file: file.name, message: `required column${absentRequired.length > 1 ? 's' : ''} ${absentRequired.map((c) => c.name).join(', ')} not in the file; read as null` });
        }
      }
      const rows: TypedRow[] = [];
      const rejects: Reject[] = [];
      for (const record of batch.records) {
        const result = (validator as RowValidator).validate(record);
        if (result.row) rows.push(result.row);
        else rejects.push(...result.rejects);
      }
      yield { columns, rows, rejects, records: batch.records.length };
    }
  }

  return {
    notices,
    get failure() {
      return failure;
    },
    batches,
  };
}
