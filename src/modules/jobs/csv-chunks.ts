import { parse } from 'csv-parse';
import { type JobContext, JobInterrupted } from './job.ts';

/** One data row of a CSV file: cells by lower-cased column name, and its line number (the header is line 1). */
export interface CsvRow {
  raw: Record<string, string>;
  line: number;
}

/**
 * Reads a job's CSV input in chunks. `prepare` checks a chunk and returns the write to do; writes run one after
 * another while the next chunk is prepared (two chunks in flight at most), and the job stops between chunks
 * when shutdown begins.
 */
export async function forEachCsvChunk(
  ctx: JobContext,
  chunkSize: number,
  prepare: (rows: CsvRow[]) => Promise<() => Promise<void>>,
): Promise<void> {
  const parser = parse(ctx.input, {
    bom: true,
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  });
  let writing: Promise<void> = Promise.resolve();
  let pending: CsvRow[] = [];
  const flush = async () => {
    if (ctx.stopping()) throw new JobInterrupted();
    const rows = pending;
    pending = [];
    const write = await prepare(rows);
    await writing;
    writing = write();
    // Keep a failure from going unobserved until the next chunk (or the end) awaits it.
    writing.catch(() => undefined);
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    pending.push({ raw: record, line: info.lines });
    if (pending.length >= chunkSize) await flush();
  }
  if (pending.length) await flush();
  await writing;
}
