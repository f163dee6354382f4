import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CsvRow, csvChunks } from './csv-chunks.ts';

async function readAll(text: string, chunkSize: number): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const chunk of csvChunks(text, chunkSize)) {
    expect(chunk.length).toBeLessThanOrEqual(chunkSize);
    rows.push(...chunk);
  }
  return rows;
}

/** What csv-parse makes of the text with the options the jobs used before the plain split existed. */
function parsed(text: string): CsvRow[] {
  const records = parse<{ record: Record<string, string>; info: { lines: number } }>(text, {
    bom: true,
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  });
  return records.map(({ record, info }) => ({ raw: { ...record }, line: info.lines }));
}

describe('CSV chunks', () => {
  it('splits rows into chunks with their line numbers, skipping empty lines', async () => {
    const rows = await readAll('\uFEFFRecord_ID , iccid\n\na,1\r\nb,2,extra\nc\n', 2);
    expect(rows).toEqual(parsed('\uFEFFRecord_ID , iccid\n\na,1\r\nb,2,extra\nc\n'));
    expect((await readAll('id,n\r\n1,2\r\n\r\n3,4\r\n', 10)).map((r) => [r.raw, r.line])).toEqual([
      [{ id: '1', n: '2' }, 2],
      [{ id: '3', n: '4' }, 4],
    ]);
  });

  it('reads quoted cells through the CSV parser', async () => {
    const text = 'id,apn\n1,"iot,example"\n2,"multi\nline"\n3,x\n';
    expect(await readAll(text, 100)).toEqual(parsed(text));
    expect((await readAll(text, 100)).at(-1)).toEqual({ raw: { id: '3', apn: 'x' }, line: 5 });
  });

  it('gives the rows csv-parse gives, for any text', async () => {
    const piece = fc.constantFrom('a', 'B', ' ', ',', '\n', '\r\n', '\r', '"', '1', '');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), async (pieces, chunkSize) => {
        const text = pieces.join('');
        let expected: CsvRow[];
        try {
          expected = parsed(text);
        } catch {
          return; // text the parser refuses (an unclosed quote, say) is not compared
        }
        expect(await readAll(text, chunkSize)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
