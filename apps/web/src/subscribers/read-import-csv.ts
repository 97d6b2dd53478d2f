import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { Options } from 'csv-parse';
import { attributeKeyProblem, maxAttributeKeys } from '@herald/shared';
import { DomainError } from '../domain-error.js';

/** One data row of an import file, as written (validation comes later). */
export type ImportRow = {
  /** Physical line of the file where the row starts; the header is line 1. */
  line: number;
  email: string;
  /** Undefined when the file has no name column. */
  name: string | undefined;
  /**
   * The row's cells in the file's other columns, by header (each a subscriber attribute), leaving
   * out empty cells: an empty cell leaves the attribute as it is. Undefined when there are none.
   */
  attributes: Record<string, string> | undefined;
};

/**
 * A subscriber row is a few hundred bytes at most; a record beyond this is almost always an unclosed
 * quote swallowing the rest of the file, which is better refused early than buffered.
 */
const maxRecordBytes = 64 * 1024;
const lineBreaks = /\r\n|\r|\n/g;

/** A non-blank record and the line it starts on. */
type CsvRecord = { line: number; fields: string[] };

const csvProblems: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_MAX_RECORD_SIZE: `a row is longer than ${maxRecordBytes / 1024} KiB (often an unclosed quote)`,
  INVALID_OPENING_QUOTE: 'a field has a quote in the wrong place',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by more text',
};

/**
 * Streams an import CSV: reads up to the header (so a file without an `email` column is refused
 * before anything is written), then yields the data rows one at a time, never holding the file.
 *
 * UTF-8 with or without a BOM; CRLF, LF and CR line endings, mixed; blank and whitespace-only lines
 * are skipped. Line numbers are counted here rather than taken from the parser, which counts a CRLF
 * inside a quoted field as two lines. The body is cut off with 413 past `maxBytes`, and the caller
 * sees a malformed file as a 400 naming the line.
 */
export async function readImportCsv(body: Readable, options: { maxBytes: number }): Promise<AsyncGenerator<ImportRow>> {
  // Counted as the parser goes (it reads ahead of the consumer), so a parse error names its line.
  let linesParsed = 0;
  const parserOptions: Options<CsvRecord, string[]> = {
    bom: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // `Dwayne "The Rock" Johnson` unquoted is common in hand-made files; take its quotes literally.
    relax_quotes: true,
    max_record_size: maxRecordBytes,
    on_record: (fields: string[]): CsvRecord | null => {
      const line = linesParsed + 1;
      linesParsed += 1 + countLineBreaks(fields);
      return isBlank(fields) ? null : { line, fields };
    },
  };
  // The overloads type on_record only for `columns` objects; the stream yields what it returns.
  const parser = parse(parserOptions as unknown as Options);
  const limit = checkBytes(options.maxBytes);
  // pipe() forwards data, not errors: a cut-off or aborted body must end the parse too.
  limit.on('error', (err) => parser.destroy(err));
  body.on('error', (err) => parser.destroy(err));
  body.on('close', () => {
    if (!body.readableEnded) parser.destroy(new DomainError('request_aborted', 'The upload was interrupted.'));
  });
  body.pipe(limit).pipe(parser);

  const records = parser[Symbol.asyncIterator]() as AsyncIterator<CsvRecord>;
  const nextRecord = async (): Promise<CsvRecord | undefined> => {
    try {
      const next = await records.next();
      return next.done ? undefined : next.value;
    } catch (err) {
      throw asImportError(err, linesParsed + 1);
    }
  };

  let header: CsvRecord | undefined;
  try {
    header = await nextRecord();
  } catch (err) {
    await records.return?.();
    throw err;
  }
  const columns = (header?.fields ?? []).map((name) => name.trim().toLowerCase());
  const emailColumn = columns.indexOf('email');
  const nameColumn = columns.indexOf('name');
  const attributeColumns = (header?.fields ?? [])
    .map((name, index) => ({ header: name.trim(), index }))
    .filter(({ header, index }) => header !== '' && !exportedColumns.has(header.toLowerCase()) && index !== emailColumn && index !== nameColumn)
    .map(({ header, index }) => ({ key: attributeKeyOfColumn(header), index }));
  const problem = !header
    ? 'The file is empty; it needs a header row with an email column.'
    : emailColumn === -1
      ? 'The header row has no email column.'
      : columns.lastIndexOf('email') !== emailColumn || columns.lastIndexOf('name') !== nameColumn
        ? 'The header row names the email or name column twice.'
        : attributeColumnsProblem(attributeColumns.map(({ key }) => key));
  if (problem) {
    await records.return?.();
    throw new DomainError('invalid_csv_header', problem);
  }

  return (async function* rows() {
    try {
      for (let record = await nextRecord(); record; record = await nextRecord()) {
        yield {
          line: record.line,
          email: record.fields[emailColumn] ?? '',
          name: nameColumn === -1 ? undefined : (record.fields[nameColumn] ?? ''),
          attributes: attributeColumns.length === 0 ? undefined : attributeCells(record.fields, attributeColumns),
        };
      }
    } finally {
      await records.return?.();
    }
  })();
}

/**
 * Passes bytes through until there have been more than `maxBytes` (413), or until they stop being
 * UTF-8 (400): the parser would otherwise turn bad bytes into U+FFFD and import names nobody wrote.
 */
function checkBytes(maxBytes: number): Transform {
  let seen = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const notUtf8 = () => new DomainError('invalid_csv', 'The file is not valid UTF-8; save it as UTF-8 and send it again.');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(new DomainError('payload_too_large', `Import files are limited to ${Math.floor(maxBytes / 1024 / 1024)} MB.`));
        return;
      }
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        callback(notUtf8());
        return;
      }
      callback(null, chunk);
    },
    flush(callback) {
      try {
        utf8.decode();
      } catch {
        callback(notUtf8());
        return;
      }
      callback();
    },
  });
}

/**
 * Columns Herald's own export writes besides email and name: facts Herald records, never set by a
 * file, so an exported file imports back without turning them into attributes.
 */
const exportedColumns = new Set(['status', 'consent_at', 'consent_source', 'confirmed_at', 'unsubscribed_at', 'created_at', 'list_status']);

/** The export names an attribute that shares a fixed column's name `attribute_<name>`; undone here. */
function attributeKeyOfColumn(header: string): string {
  const match = /^attribute_(.+)$/.exec(header);
  return match?.[1] && (exportedColumns.has(match[1]) || match[1] === 'email' || match[1] === 'name') ? match[1] : header;
}

/** Why the extra columns cannot be attributes: a header that is not a key, or one named twice. */
function attributeColumnsProblem(keys: string[]): string | undefined {
  if (keys.length > maxAttributeKeys) return `The header row has more than ${maxAttributeKeys} attribute columns.`;
  for (const key of keys) {
    const keyProblem = attributeKeyProblem(key);
    if (keyProblem) return `Column "${key.slice(0, 64)}" cannot be an attribute: ${keyProblem}.`;
  }
  const twice = keys.find((key, index) => keys.indexOf(key) !== index);
  return twice === undefined ? undefined : `The header row names the column "${twice}" twice.`;
}

/** The non-empty cells of the attribute columns (trimmed), or undefined when all are empty. */
function attributeCells(fields: string[], columns: { key: string; index: number }[]): Record<string, string> | undefined {
  let cells: Record<string, string> | undefined;
  for (const { key, index } of columns) {
    const cell = fields[index]?.trim();
    if (cell) (cells ??= {})[key] = cell;
  }
  return cells;
}

/** Line breaks inside quoted fields; a record spans one line more than it has. */
function countLineBreaks(fields: string[]): number {
  let breaks = 0;
  for (const field of fields) {
    if (field.includes('\n') || field.includes('\r')) breaks += field.match(lineBreaks)?.length ?? 0;
  }
  return breaks;
}

function isBlank(fields: string[]): boolean {
  return fields.every((field) => field.trim() === '');
}

function asImportError(err: unknown, line: number): unknown {
  if (err instanceof DomainError) return err;
  if (err instanceof CsvError) {
    const problem = csvProblems[err.code] ?? 'it is not valid CSV';
    return new DomainError('invalid_csv', `The file cannot be read from line ${line}: ${problem}.`);
  }
  // A client that goes away mid-upload is not a server failure.
  if ((err as { code?: unknown }).code === 'ECONNRESET') {
    return new DomainError('request_aborted', 'The upload was interrupted.');
  }
  return err;
}
