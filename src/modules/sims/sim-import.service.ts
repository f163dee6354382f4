import { sql } from 'kysely';
import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { invalid } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { insertChangeRecords } from '../changes/change-record.repository.ts';
import { publishEvents } from '../events/event.repository.ts';
import { findGroupsByName } from '../groups/group.repository.ts';
import { type CsvRow, forEachCsvChunk } from '../jobs/csv-chunks.ts';
import type { Job, JobContext, JobResult } from '../jobs/job.ts';
import type { JobService } from '../jobs/job.service.ts';
import { checkHeader, checkImportRow, type ImportedSim } from './sim-import.ts';

const CHUNK_ROWS = 5000;

export interface ImportSummary {
  rows: number;
  created: number;
  unchanged: number;
  failed: number;
  [key: string]: unknown;
}

/** Counts data lines (not the header) so a job can show its total before parsing. */
export const countDataLines = (csv: string): number => Math.max(0, csv.split('\n').filter((l) => l.trim()).length - 1);

/** Loads SIMs from CSV as a job with one result per row; importing the same file again changes nothing. */
export class SimImportService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly jobs: JobService,
  ) {}

  /** Checks the header at once (a bad file fails the request, not a job) and queues the import. */
  async startImport(principal: Principal, csv: string, options: { accountId?: string; dryRun: boolean }): Promise<Job> {
    requirePermission(principal, 'sims:import');
    const account = await this.accounts.getAccount(principal, options.accountId ?? principal.accountId);
    const firstLine = csv.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
    if (!firstLine.trim()) throw invalid('empty_file', 'the CSV file is empty; its first line must name the columns (iccid,imsi,…)');
    const problems = checkHeader(firstLine.split(',').map((c) => c.trim().toLowerCase()));
    if (problems.length) throw invalid('invalid_csv_header', problems.join('; '));
    return this.jobs.enqueue(
      principal,
      { accountId: account.id, kind: 'sim_import', dryRun: options.dryRun, total: countDataLines(csv), params: { accountId: account.id, actor: principal.actor, source: principal.source } },
      csv,
    );
  }

  /** The job handler: parses, validates and writes in chunks. */
  async runImport(ctx: JobContext): Promise<ImportSummary> {
    const { job } = ctx;
    const accountId = String(job.params.accountId);
    const origin = { actor: typeof job.params.actor === 'string' ? job.params.actor : '', source: job.params.source === 'web' ? ('web' as const) : ('api' as const) };
    const groups = await findGroupsByName(this.db, accountId);
    const seen = { iccid: new Set<string>(), imsi: new Set<string>(), msisdn: new Set<string>(), eid: new Set<string>() };
    const summary: ImportSummary = { rows: 0, created: 0, unchanged: 0, failed: 0 };

    // NOTE: duplicates across chunks are caught by the in-file sets, so preparing a chunk while the previous one
    // is written cannot let a row in twice.
    await forEachCsvChunk(ctx, CHUNK_ROWS, async (chunk) => {
      const { results, write } = await this.importChunk(chunk, { accountId, groups, seen, dryRun: job.dryRun, jobId: job.id, origin });
      return async () => {
        await write();
        for (const r of results) {
          summary.rows++;
          if (!r.ok) summary.failed++;
          else if (r.code === 'unchanged') summary.unchanged++;
          else summary.created++;
        }
        // NOTE: a created row needs no result row of its own (it is counted); failed and unchanged rows get one.
        await ctx.report(
          results.filter((r) => r.code !== 'created'),
          { done: results.length },
        );
      };
    });
    await ctx.report([], { done: 0, total: summary.rows });
    return summary;
  }

  /** Validates a chunk and looks up what exists; returns the per-row results and the write to do. */
  private async importChunk(
    rows: CsvRow[],
    c: {
      accountId: string;
      groups: Map<string, { id: string }>;
      seen: Record<'iccid' | 'imsi' | 'msisdn' | 'eid', Set<string>>;
      dryRun: boolean;
      jobId: string;
      origin: { actor: string; source: 'web' | 'api' };
    },
  ): Promise<{ results: JobResult[]; write: () => Promise<void> }> {
    const results: JobResult[] = [];
    const valid: (ImportedSim & { groupId: string | null; seq: number })[] = [];
    for (const { raw, line } of rows) {
      const check = checkImportRow(raw, line);
      const fail = (code: string, message: string) => results.push({ seq: line, subject: check.ok ? check.sim.iccid : check.iccid, ok: false, code, message });
      if (!check.ok) {
        fail(check.code, check.message);
        continue;
      }
      const sim = check.sim;
      const groupId = sim.group ? (c.groups.get(sim.group)?.id ?? null) : null;
      if (sim.group && !groupId) {
        fail('unknown_group', `group "${sim.group}" does not exist in account ${c.accountId}; create it first`);
        continue;
      }
      const dup =
        (c.seen.iccid.has(sim.iccid) && `ICCID ${sim.iccid}`) ||
        (sim.imsis.find((i) => c.seen.imsi.has(i)) && `IMSI ${sim.imsis.find((i) => c.seen.imsi.has(i))}`) ||
        (sim.msisdn && c.seen.msisdn.has(sim.msisdn) && `MSISDN ${sim.msisdn}`) ||
        (sim.eid && c.seen.eid.has(sim.eid) && `EID ${sim.eid}`);
      if (dup) {
        fail('duplicate_in_file', `${dup} appears on an earlier line of this file`);
        continue;
      }
      c.seen.iccid.add(sim.iccid);
      for (const i of sim.imsis) c.seen.imsi.add(i);
      if (sim.msisdn) c.seen.msisdn.add(sim.msisdn);
      if (sim.eid) c.seen.eid.add(sim.eid);
      valid.push({ ...sim, groupId, seq: line });
    }

    const existing = await findExisting(this.db, valid);
    const toCreate: typeof valid = [];
    for (const sim of valid) {
      const fail = (code: string, message: string) => results.push({ seq: sim.seq, subject: sim.iccid, ok: false, code, message });
      const current = existing.sims.get(sim.iccid);
      if (current) {
        if (current.account_id === c.accountId && sameSim(current, sim)) {
          results.push({ seq: sim.seq, subject: sim.iccid, ok: true, code: 'unchanged', message: 'already imported with the same data' });
        } else {
          fail('duplicate_iccid', `ICCID ${sim.iccid} already exists with different data`);
        }
        continue;
      }
      const imsi = sim.imsis.find((i) => existing.imsis.has(i));
      if (imsi) fail('duplicate_imsi', `IMSI ${imsi} already belongs to another SIM`);
      else if (sim.msisdn && existing.msisdns.has(sim.msisdn)) fail('duplicate_msisdn', `MSISDN ${sim.msisdn} already belongs to another SIM`);
      else if (sim.eid && existing.eids.has(sim.eid)) fail('duplicate_eid', `EID ${sim.eid} already belongs to another SIM`);
      else {
        toCreate.push(sim);
        results.push({ seq: sim.seq, subject: sim.iccid, ok: true, code: c.dryRun ? 'would_create' : 'created', message: null });
      }
    }
    const write = async (): Promise<void> => {
      if (c.dryRun || toCreate.length === 0) return;
      const now = this.clock.now();
      await this.db.transaction().execute(async (trx) => {
        await insertSims(trx, toCreate, c.accountId, now);
        const ids = await insertChangeRecords(
          trx,
          toCreate.map((s) => ({
            accountId: c.accountId,
            iccid: s.iccid,
            field: 'state',
            oldValue: null,
            newValue: 'inventory',
            source: c.origin.source,
            actor: c.origin.actor,
            reason: `imported by job ${c.jobId}`,
            status: 'completed' as const,
            jobId: c.jobId,
            createdAt: now,
            completedAt: now,
          })),
        );
        await publishEvents(
          trx,
          toCreate.map((s, i) => ({
            type: 'sim.state_changed',
            accountId: c.accountId,
            subject: { kind: 'sim' as const, id: s.iccid },
            data: { iccid: s.iccid, from: null, to: 'inventory', suspendReason: null, reason: `imported by job ${c.jobId}`, source: c.origin.source, actor: c.origin.actor, jobId: c.jobId, changeRecordId: ids[i] ?? null },
          })),
          now,
        );
      });
    };
    return { results: results.sort((a, b) => a.seq - b.seq), write };
  }
}

interface ExistingSim {
  account_id: string;
  msisdn: string | null;
  eid: string | null;
  batch: string | null;
  group_id: string | null;
  labels: string[];
  device_name: string | null;
  imsis: string[];
  active_imsi: string | null;
}

function sameSim(a: ExistingSim, b: ImportedSim & { groupId: string | null }): boolean {
  return (
    a.msisdn === b.msisdn &&
    a.eid === b.eid &&
    a.batch === b.batch &&
    a.group_id === b.groupId &&
    a.device_name === b.deviceName &&
    a.active_imsi === b.activeImsi &&
    [...a.imsis].sort().join() === [...b.imsis].sort().join() &&
    [...a.labels].sort().join() === [...b.labels].sort().join()
  );
}

async function findExisting(db: Executor, sims: ImportedSim[]) {
  const iccids = sims.map((s) => s.iccid);
  const imsis = sims.flatMap((s) => s.imsis);
  const msisdns = sims.flatMap((s) => (s.msisdn ? [s.msisdn] : []));
  const eids = sims.flatMap((s) => (s.eid ? [s.eid] : []));
  // NOTE: each lookup is its own indexed query; an OR across msisdn and eid would scan the whole table.
  const [simRows, imsiRows, msisdnRows, eidRows] = await Promise.all([
    sql<ExistingSim & { iccid: string }>`
      SELECT s.iccid, s.account_id, s.msisdn, s.eid, s.batch, s.group_id, s.labels, s.device_name,
             coalesce(array_agg(p.imsi ORDER BY p.position) FILTER (WHERE p.imsi IS NOT NULL), '{}') AS imsis,
             max(p.imsi) FILTER (WHERE p.active) AS active_imsi
      FROM sims s LEFT JOIN sim_profiles p ON p.iccid = s.iccid
      WHERE s.iccid = any(${iccids}::text[])
      GROUP BY s.iccid`.execute(db),
    sql<{ imsi: string }>`SELECT imsi FROM sim_profiles WHERE imsi = any(${imsis}::text[])`.execute(db),
    msisdns.length ? sql<{ v: string }>`SELECT msisdn AS v FROM sims WHERE msisdn = any(${msisdns}::text[])`.execute(db) : { rows: [] },
    eids.length ? sql<{ v: string }>`SELECT eid AS v FROM sims WHERE eid = any(${eids}::text[])`.execute(db) : { rows: [] },
  ]);
  return {
    sims: new Map(simRows.rows.map((r) => [r.iccid, r])),
    imsis: new Set(imsiRows.rows.map((r) => r.imsi)),
    msisdns: new Set(msisdnRows.rows.map((r) => r.v)),
    eids: new Set(eidRows.rows.map((r) => r.v)),
  };
}

async function insertSims(db: Executor, sims: (ImportedSim & { groupId: string | null })[], accountId: string, now: Date): Promise<void> {
  const col = <T>(f: (s: (typeof sims)[number]) => T) => sims.map(f);
  // NOTE: labels travel as one '|'-joined string per SIM; unnest cannot take a ragged text[][].
  await sql`
    INSERT INTO sims (iccid, account_id, group_id, state, msisdn, eid, batch, labels, custom_fields, device_name, state_changed_at, created_at, updated_at)
    SELECT u.iccid, ${accountId}, u.group_id, 'inventory', u.msisdn, u.eid, u.batch,
           CASE WHEN u.labels = '' THEN '{}'::text[] ELSE string_to_array(u.labels, '|') END,
           '{}'::jsonb, u.device_name, ${now}, ${now}, ${now}
    FROM unnest(${col((s) => s.iccid)}::text[], ${col((s) => s.groupId)}::text[], ${col((s) => s.msisdn)}::text[],
                ${col((s) => s.eid)}::text[], ${col((s) => s.batch)}::text[], ${col((s) => s.labels.join('|'))}::text[],
                ${col((s) => s.deviceName)}::text[])
      AS u(iccid, group_id, msisdn, eid, batch, labels, device_name)`.execute(db);
  const profiles = sims.flatMap((s) => s.imsis.map((imsi, position) => ({ imsi, iccid: s.iccid, position, active: imsi === s.activeImsi })));
  await sql`
    INSERT INTO sim_profiles (imsi, iccid, position, active)
    SELECT * FROM unnest(${profiles.map((p) => p.imsi)}::text[], ${profiles.map((p) => p.iccid)}::text[],
                         ${profiles.map((p) => p.position)}::smallint[], ${profiles.map((p) => p.active)}::bool[])`.execute(db);
}
