import { createServer, type Server } from 'node:http';
import { InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './api-client.ts';
import { parseIccidList } from './bulk-commands.ts';
import { collectOneOf, keyValue, UsageError } from './command-kit.ts';
import { type JobDto, summaryText } from './job-report.ts';
import { displayWidth, renderFields, renderTable } from './output.ts';

describe('output', () => {
  it('aligns columns by display width (wide CJK characters) and neutralises control characters', () => {
    const table = renderTable(
      [
        { name: '车载终端', n: 7 },
        { name: 'a\u001b[31mb\nc', n: 12 },
      ],
      [
        { header: 'NAME', value: (r) => r.name },
        { header: 'N', value: (r) => r.n, align: 'right' },
      ],
    );
    expect(table).toBe('NAME        N\n车载终端    7\na [31mb c  12\n');
    expect(displayWidth('车载终端')).toBe(8);
    expect(renderFields([['State', 'active'], ['Group', null]])).toBe('State  active\nGroup  -\n');
  });

  it('summarises a job in reading order, with dry-run wording', () => {
    const job = { kind: 'sim_import', dryRun: true, total: 5, done: 5, failed: 1, summary: { failed: 1, rows: 5, unchanged: 0, created: 4 } } as unknown as JobDto;
    expect(summaryText(job)).toBe('5 rows, 4 would be created, 0 unchanged, 1 failed');
    const bulk = { ...job, kind: 'bulk_change', dryRun: false, total: 3, summary: { unchanged: 1, failed: 0, succeeded: 2 } };
    expect(summaryText(bulk)).toBe('3 SIMs, 2 changed, 1 unchanged, 0 failed');
  });
});

describe('option and input parsing', () => {
  it('reads ICCIDs from a list or a CSV file, skipping a header, blanks and comments', () => {
    const text = '\uFEFFiccid,imsi\n89860010000000000017,460000000000001\n\n# spare\n"89860010000000000025"\r\n';
    expect(parseIccidList(text, 'f')).toEqual(['89860010000000000017', '89860010000000000025']);
    expect(() => parseIccidList('89860010000000000017\n12345\nabc\n', 'f')).toThrow(UsageError);
    expect(() => parseIccidList('# nothing\n', 'f')).toThrow(/lists no ICCIDs/);
  });

  it('parses name=value and restricted lists', () => {
    expect(keyValue('site=SZ=2', { a: '1' })).toEqual({ a: '1', site: 'SZ=2' });
    expect(() => keyValue('site', {})).toThrow(InvalidArgumentError);
    expect(collectOneOf(['a', 'b'])('a, b', ['a'])).toEqual(['a', 'a', 'b']);
    expect(() => collectOneOf(['a', 'b'])('c', [])).toThrow(/c not allowed/);
  });
});

describe('ApiClient', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  const serve = (handler: Parameters<typeof createServer>[1]): Promise<string> =>
    new Promise((resolve) => {
      server = createServer(handler).listen(0, '127.0.0.1', () => {
        const address = server!.address();
        resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/prefix/`);
      });
    });

  it('builds URLs under a path prefix, joining lists with commas and leaving out empty values', () => {
    const client = new ApiClient({ baseUrl: 'http://cmp.example/meridian/' });
    expect(client.url('/sims', { state: ['active', 'test'], label: [], q: '', limit: 5, cursor: undefined })).toBe(
      'http://cmp.example/meridian/api/v1/sims?state=active%2Ctest&limit=5',
    );
  });

  it('retries after a 429, sends the key, and maps problem documents and other errors', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      if (seen.length === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/problem+json' }).end('{"code":"rate_limited","detail":"slow down"}');
      } else if (req.url === '/prefix/api/v1/ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"fine":true}');
      } else if (req.url === '/prefix/api/v1/problem') {
        res.writeHead(409, { 'content-type': 'application/problem+json' }).end('{"code":"illegal_transition","detail":"no"}');
      } else {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>bad gateway</h1>');
      }
    });
    const waits: number[] = [];
    const client = new ApiClient({ baseUrl: url, apiKey: 'mk_x', sleep: async (ms) => void waits.push(ms) });
    expect(await client.get('/ok')).toEqual({ fine: true });
    expect(waits).toEqual([1000]);
    expect(seen).toEqual(['/prefix/api/v1/ok Bearer mk_x', '/prefix/api/v1/ok Bearer mk_x']);
    await expect(client.get('/problem')).rejects.toMatchObject({ status: 409, code: 'illegal_transition', detail: 'no' });
    const other = await client.get('/gateway').catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ApiError);
    expect(other).toMatchObject({ status: 502, code: 'http_502', detail: '<h1>bad gateway</h1>' });
  });
});

describe('byte figures', async () => {
  const { humanBytes } = await import('./sim-commands.ts');
  it('prints bytes in binary units with one decimal', () => {
    expect(humanBytes(undefined)).toBeNull();
    expect(humanBytes(512)).toBe('512 B');
    expect(humanBytes(1536)).toBe('1.5 KiB');
    expect(humanBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
