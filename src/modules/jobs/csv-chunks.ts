import { parse } from 'csv-parse';
import { type JobContext, JobInterrupted } from './job.ts';

/** One data row of a CSV file: cells by lower-cased column name, and its line number (the header is line 1). */
export interface CsvRow {
  raw: Record<string, string>;
  line: number;
}

const columnName = (h: string): string => h.trim().toLowerCase();

/**
 * Reads a job's CSV input in chunks. `prepare` checks a chunk and returns the write to do; writes run one after
 * another while the next chunk is prepared (two chunks in flight at most), and the job stops between chunks
 * when shutdown begins, once the write in flight has finished.
 */
export async function forEachCsvChunk(
  ctx: JobContext,
  chunkSize: number,
  prepare: (rows: CsvRow[]) => Promise<() => Promise<void>>,
): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  const flush = async (rows: CsvRow[]) => {
    if (ctx.stopping()) {
      await writing;
      throw new JobInterrupted();
    }
    const write = await prepare(rows);
    await writing;
    writing = write();
    // Keep a failure from going unobserved until the next chunk (or the end) awaits it.
    writing.catch(() => undefined);
  };
  for await (const rows of csvChunks(ctx.input, chunkSize)) await flush(rows);
  await writing;
}

/** The rows of a CSV text in chunks of at most `chunkSize`; the first non-empty line names the columns. */
export async function* csvChunks(text: string, chunkSize: number): AsyncGenerator<CsvRow[]> {
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lineBreak = plainLineBreak(input);
  if (lineBreak !== undefined) {
    yield* splitPlain(input, lineBreak, chunkSize);
    return;
  }
  const parser = parse(input, {
    columns: (header: string[]) => header.map(columnName),
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  });
  let pending: CsvRow[] = [];
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    pending.push({ raw: record, line: info.lines });
    if (pending.length >= chunkSize) {
      yield pending;
      pending = [];
    }
  }
  if (pending.length) yield pending;
}

/**
 * The line break of a text that a plain split reads exactly as the CSV parser would: no quotes, and every line
 * ending in the same break ("\n" or "\r\n") with no other carriage return. Undefined when the parser is needed.
 */
function plainLineBreak(input: string): '\n' | '\r\n' | undefined {
  if (input.includes('"')) return undefined;
  const first = input.indexOf('\n');
  if (first > 0 && input.charCodeAt(first - 1) === 13) {
    let crs = 0;
    for (let at = input.indexOf('\r'); at >= 0; at = input.indexOf('\r', at + 1)) {
      if (input.charCodeAt(at + 1) !== 10) return undefined;
      crs++;
    }
    let lfs = 0;
    for (let at = first; at >= 0; at = input.indexOf('\n', at + 1)) lfs++;
    return crs === lfs ? '\r\n' : undefined;
  }
  return input.includes('\r') ? undefined : '\n';
}

// NOTE: the fast path of csvChunks; it gives the same rows and line numbers as csv-parse with the options above
// (empty lines skipped, short rows without the missing cells, cells beyond the header dropped).
function* splitPlain(input: string, lineBreak: string, chunkSize: number): Generator<CsvRow[]> {
  let columns: string[] | undefined;
  let pending: CsvRow[] = [];
  let line = 0;
  for (let at = 0; at < input.length; ) {
    let end = input.indexOf(lineBreak, at);
    if (end < 0) end = input.length;
    const text = input.slice(at, end);
    at = end + lineBreak.length;
    line++;
    if (text.length === 0) continue;
    const cells = text.split(',');
    if (!columns) {
      columns = cells.map(columnName);
      continue;
    }
    const raw: Record<string, string> = {};
    const n = Math.min(cells.length, columns.length);
    for (let i = 0; i < n; i++) raw[columns[i]!] = cells[i]!;
    pending.push({ raw, line });
    if (pending.length >= chunkSize) {
      yield pending;
      pending = [];
    }
  }
  if (pending.length) yield pending;
}

/** The number of lines of a text holding more than white space (the header and the data rows). */
export function countNonBlankLines(text: string): number {
  let count = 0;
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const c = text.charCodeAt(at);
    // Most lines start with a visible ASCII character; only the others need the full white-space test.
    if (end > at && ((c > 32 && c < 127) || text.slice(at, end).trim() !== '')) count++;
    at = end + 1;
  }
  return count;
}
