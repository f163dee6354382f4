import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { ExternalUsage, UsageEngine } from '../../engine/usage-engine.ts';
import { invalid } from '../../shared/errors.ts';
import { isRootPath, type Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { type CsvRow, countNonBlankLines, forEachCsvChunk } from '../jobs/csv-chunks.ts';
import type { Job, JobContext, JobResult } from '../jobs/job.ts';
import type { JobService } from '../jobs/job.service.ts';
import { type CdrRecord, checkCdrHeader, checkCdrRow } from './cdr.ts';

// Rows checked and committed together: one duplicate check and one engine item (a statement per lane) per chunk.
// NOTE: RADIUS packets share the engine's commit lanes, so a chunk stays small enough for a commit to be short; larger
// chunks were not faster.
const CHUNK = 10_000;

type ImportSummary = { rows: number; recorded: number; duplicates: number; failed: number; bytes: number };

/** CDR files: validated row by row, then counted through the same engine as RADIUS accounting. */
export class CdrService {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobService,
    private readonly engine: UsageEngine,
  ) {}

  /** Checks the header and queues the import as a job. */
  async startImport(principal: Principal, csv: string, options: { source?: string } = {}): Promise<Job> {
    requirePermission(principal, 'sims:import');
    const from = csv.charCodeAt(0) === 0xfeff ? 1 : 0;
    const firstBreak = csv.indexOf('\n', from);
    const header = csv.slice(from, firstBreak < 0 ? csv.length : firstBreak).replace(/\r$/, '');
    const problems = checkCdrHeader(header.split(',').map((c) => c.trim().toLowerCase()));
    if (!header.trim() || problems.length) throw invalid('invalid_csv_header', problems.join('; ') || 'the CDR file is empty');
    return this.jobs.enqueue(
      principal,
      {
        accountId: principal.accountId,
        kind: 'cdr_import',
        dryRun: false,
        total: Math.max(0, countNonBlankLines(csv) - 1),
        params: { scopePath: principal.accountPath, file: options.source ?? null },
      },
      csv,
    );
  }

  async runImport(ctx: JobContext): Promise<Record<string, unknown>> {
    const scopePath = String(ctx.job.params.scopePath);
    const summary: ImportSummary = { rows: 0, recorded: 0, duplicates: 0, failed: 0, bytes: 0 };
    const seen = new Set<string>();
    // NOTE: record ids repeated across chunks are caught by the in-file set, so checking a chunk while the previous
    // one commits cannot count a record twice. A chunk goes to the engine as soon as it is checked: the engine
    // commits chunks in the order they come, so its commit queue stays full while the next chunk is read.
    try {
      await this.importChunks(ctx, scopePath, seen, summary);
    } finally {
      // NOTE: the SIM figures of the file go from the engine's journal onto the SIM rows; after a stop the journal is
      // applied at the next start instead.
      if (!ctx.stopping()) await this.engine.settleFigures();
    }
    return summary;
  }

  private async importChunks(ctx: JobContext, scopePath: string, seen: Set<string>, summary: ImportSummary): Promise<void> {
    await forEachCsvChunk(ctx, CHUNK, async (chunk) => {
      const { results, usage } = await this.importChunk(chunk, scopePath, seen, summary);
      const ingesting = this.engine.ingest(usage);
      // Observed by the write below; keeps a failure from being reported as unhandled meanwhile.
      ingesting.catch(() => undefined);
      // NOTE: a recorded row needs no result row of its own (it is counted); failed and duplicate rows get one.
      return async () => {
        await ingesting;
        await ctx.report(results, { done: chunk.length });
      };
    });
  }

  /** Checks a chunk; returns the result rows of the rows not recorded (by line) and the usage to record. */
  private async importChunk(rows: CsvRow[], scopePath: string, seen: Set<string>, summary: ImportSummary): Promise<{ results: JobResult[]; usage: ExternalUsage[] }> {
    const results: JobResult[] = [];
    const valid: CdrRecord[] = [];
    for (const { raw, line } of rows) {
      const check = checkCdrRow(raw, line);
      if (!check.ok) results.push({ seq: line, subject: check.recordId, ok: false, code: check.code, message: check.message });
      else if (seen.has(check.record.recordId)) results.push({ seq: line, subject: check.record.recordId, ok: true, code: 'duplicate', message: 'record_id appears on an earlier line' });
      else {
        seen.add(check.record.recordId);
        valid.push(check.record);
      }
    }
    const existing = await this.existingKeys(valid.map((r) => r.recordId));
    const usage: ExternalUsage[] = [];
    const isRoot = isRootPath(scopePath);
    const sims = this.engine.sims;
    for (const r of valid) {
      if (existing.has(r.recordId)) {
        results.push({ seq: r.line, subject: r.recordId, ok: true, code: 'duplicate', message: 'record_id was imported before' });
        continue;
      }
      // NOTE: SIMs in memory and accounts seen before are looked up without waiting; only the others read the database.
      const sim = (r.iccid ? sims.getByIccid(r.iccid) : undefined) ?? (r.iccid ? await sims.resolveIccid(r.iccid) : await sims.resolve(r.imsi, null));
      const visible = sim && (isRoot || (this.accountPaths.get(sim.accountId) ?? (await this.accountPathOf(sim.accountId))).startsWith(scopePath));
      if (!sim || !visible) {
        results.push({ seq: r.line, subject: r.recordId, ok: false, code: 'unknown_sim', message: `no SIM ${r.iccid ?? r.imsi} visible to this account` });
        continue;
      }
      usage.push({ sim, source: 'cdr', recordKey: r.recordId, startAt: r.startAt, endAt: r.endAt, bytesIn: r.bytesUp, bytesOut: r.bytesDown, mccMnc: r.mccMnc, apn: r.apn, destination: r.destination });
      summary.bytes += r.bytesUp + r.bytesDown;
    }
    summary.rows += rows.length;
    summary.recorded += usage.length;
    for (const r of results) {
      if (!r.ok) summary.failed++;
      else summary.duplicates++;
    }
    return { results: results.sort((a, b) => a.seq - b.seq), usage };
  }

  /** The record keys among `keys` that an earlier import stored. */
  private async existingKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    // NOTE: one probe of the unique key index per record id, so the check costs the same however many records the
    // table holds; with `record_key = any(...)` the planner scans the whole table once it holds a few hundred
    // thousand rows, and every chunk paid for that scan.
    const { rows } = await sql<{ record_key: string }>`
      SELECT k.key AS record_key
      FROM unnest(${keys}::text[]) AS k(key)
      CROSS JOIN LATERAL (SELECT 1 FROM usage_records u WHERE u.source = 'cdr' AND u.record_key = k.key LIMIT 1) AS found`.execute(this.db);
    return new Set(rows.map((r) => r.record_key));
  }

  private readonly accountPaths = new Map<string, string>();

  /** The path of an account (cached: an account never moves in the tree). */
  private async accountPathOf(accountId: string): Promise<string> {
    let path = this.accountPaths.get(accountId);
    if (path === undefined) {
      const row = await this.db.selectFrom('accounts').select('path').where('id', '=', accountId).executeTakeFirst();
      path = row?.path ?? '';
      this.accountPaths.set(accountId, path);
    }
    return path;
  }
}
