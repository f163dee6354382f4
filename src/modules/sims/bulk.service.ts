import type { Db } from '../../db/database.ts';
import { chunk } from '../../shared/chunk.ts';
import { invalid } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { type Job, type JobContext, JobInterrupted, type JobResult } from '../jobs/job.ts';
import type { JobService } from '../jobs/job.service.ts';
import type { LifecycleService, TransitionInput } from './lifecycle.service.ts';
import type { ResolvedUpdate } from './sim.ts';
import * as repo from './sim.repository.ts';
import type { SimFilter } from './sim.repository.ts';
import { originOf, scopeOf, type SimService, type SimUpdate } from './sim.service.ts';

const CHUNK_SIMS = 1000;
export const MAX_BULK_SIMS = 1_000_000;

/** What a bulk job does to each SIM: a state change, or attribute updates. */
export type BulkChange = { kind: 'state'; transition: TransitionInput } | { kind: 'update'; update: SimUpdate };

export interface BulkRequest {
  selection: { iccids: string[] } | { filter: SimFilter };
  change: BulkChange;
  reason?: string;
  dryRun: boolean;
}

interface BulkParams {
  principal: Principal;
  change: { kind: 'state'; transition: TransitionInput } | { kind: 'update'; update: ResolvedUpdate };
  reason?: string;
  /** ICCIDs asked for by list that the caller cannot see (or that do not exist). */
  missing: string[];
  [key: string]: unknown;
}

/** Changes of state, group, labels, custom fields or owner for many SIMs, as a job with per-SIM results. */
export class BulkService {
  constructor(
    private readonly db: Db,
    private readonly sims: SimService,
    private readonly lifecycle: LifecycleService,
    private readonly jobs: JobService,
  ) {}

  /** Validates the change, snapshots the selected ICCIDs and queues the job. */
  async startBulk(principal: Principal, request: BulkRequest): Promise<Job> {
    requirePermission(principal, 'sims:write');
    const scope = scopeOf(principal);
    const change: BulkParams['change'] =
      request.change.kind === 'state'
        ? request.change
        : { kind: 'update', update: await this.sims.resolveUpdate(principal, request.change.update) };
    let iccids: string[];
    let missing: string[] = [];
    if ('iccids' in request.selection) {
      const asked = [...new Set(request.selection.iccids)];
      if (asked.length > MAX_BULK_SIMS) throw invalid('too_many_sims', `a bulk job takes at most ${MAX_BULK_SIMS} SIMs; got ${asked.length}`);
      const visible = new Set<string>();
      for (const part of chunk(asked, 10_000)) for (const r of await repo.findSimRows(this.db, part, scope)) visible.add(r.iccid);
      iccids = asked.filter((i) => visible.has(i));
      missing = asked.filter((i) => !visible.has(i));
    } else {
      iccids = await repo.listIccids(this.db, scope, request.selection.filter);
      if (iccids.length > MAX_BULK_SIMS) {
        throw invalid('too_many_sims', `the filter selects ${iccids.length} SIMs; a bulk job takes at most ${MAX_BULK_SIMS}`);
      }
    }
    const params: BulkParams = { principal, change, reason: request.reason, missing };
    return this.jobs.enqueue(
      principal,
      { accountId: principal.accountId, kind: 'bulk_change', dryRun: request.dryRun, total: iccids.length + missing.length, params },
      iccids.join('\n'),
    );
  }

  /** The job handler: applies the change chunk by chunk; every SIM gets a result. */
  async runBulk(ctx: JobContext): Promise<Record<string, unknown>> {
    const { job } = ctx;
    const params = job.params as unknown as BulkParams;
    const origin = originOf(params.principal, job.id);
    const scope = scopeOf(params.principal);
    let seq = 0;
    const counts = { succeeded: 0, unchanged: 0, failed: 0 };
    const tally = (results: JobResult[]) => {
      for (const r of results) {
        if (!r.ok) counts.failed++;
        else if (r.code === 'unchanged') counts.unchanged++;
        else counts.succeeded++;
      }
    };
    if (params.missing.length) {
      const results = params.missing.map((iccid) => ({ seq: seq++, subject: iccid, ok: false, code: 'sim_not_found', message: `SIM ${iccid} does not exist or is not visible to this account` }));
      tally(results);
      await ctx.report(results);
    }
    const iccids = ctx.input ? ctx.input.split('\n') : [];
    for (const part of chunk(iccids, CHUNK_SIMS)) {
      if (ctx.stopping()) throw new JobInterrupted();
      const rows = await repo.findSimRows(this.db, part, scope);
      const byIccid = new Map(rows.map((r) => [r.iccid, r]));
      const present = part.filter((i) => byIccid.has(i)).map((i) => byIccid.get(i)!);
      const outcome = new Map<string, JobResult>();
      if (params.change.kind === 'state') {
        for (const r of await this.lifecycle.transition(present, params.change.transition, origin, job.dryRun)) {
          outcome.set(r.iccid, { seq: 0, subject: r.iccid, ok: r.ok, code: r.ok ? (r.code ?? (job.dryRun ? 'would_change' : 'changed')) : (r.code ?? null), message: r.message ?? null });
        }
      } else {
        for (const r of await this.sims.applyUpdates(present, params.change.update, origin, job.dryRun, params.reason)) {
          outcome.set(
            r.iccid,
            r.ok
              ? { seq: 0, subject: r.iccid, ok: true, code: r.changes.length === 0 ? 'unchanged' : job.dryRun ? 'would_change' : 'changed', message: r.changes.map((c) => c.field).join(', ') || null }
              : { seq: 0, subject: r.iccid, ok: false, code: r.code, message: r.message },
          );
        }
      }
      const results = part.map((iccid) => ({
        ...(outcome.get(iccid) ?? { subject: iccid, ok: false, code: 'sim_not_found', message: `SIM ${iccid} no longer exists or is no longer visible` }),
        seq: seq++,
      }));
      tally(results);
      await ctx.report(results);
    }
    return counts;
  }
}
