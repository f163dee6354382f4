import type { SessionRow } from '../modules/usage/ingest.repository.ts';
import type { Observation } from '../modules/rules/rule-set.ts';
import type { Rated } from './rating-book.ts';
import type { HotSim } from './sim-index.ts';

/** Allowance thresholds (the plan's notification percents) a rated delta crossed. */
export interface Crossed {
  percents: readonly number[];
  of: 'sim' | 'pool';
  planId: string;
  cycle: string;
  usedBytes: number;
  allowanceBytes: number;
}

/** Who evaluates automation rules and usage thresholds after the engine's commits. */
export interface UsageObserver {
  /** Whether SIMs of the account have rules (otherwise nothing is built for their packets). */
  wants(accountId: string): boolean;
  observe(o: Observation, crossed?: Crossed): void;
}

/** Hands one committed delta (and the session it belongs to, if any) to the observer; cheap when nobody wants it. */
export function observeCommitted(
  observer: UsageObserver,
  sim: HotSim,
  bytes: number,
  at: Date,
  rated: Rated | undefined,
  session?: { before: SessionRow | undefined; current: SessionRow },
): void {
  const crossed = rated && rated.result.percentsCrossed.length > 0 ? crossedOf(rated) : undefined;
  if (!crossed && !observer.wants(sim.accountId)) return;
  const o: Observation = { sim, at, bytes };
  if (rated) {
    const b = rated.before && rated.before.cycle === rated.cycle && rated.before.planId === rated.plan.id ? rated.before.balance : undefined;
    const after = rated.result.sim;
    o.allowance = { sizeBytes: after.includedBytes, usedBeforeBytes: b ? b.includedBytes - b.includedRemainingBytes : 0, usedAfterBytes: after.includedBytes - after.includedRemainingBytes };
    const pool = rated.result.pool;
    if (rated.poolKey && pool) {
      const pb = rated.poolBefore;
      o.pool = { key: `${sim.accountId}|${rated.plan.id}`, cycle: rated.cycle, sizeBytes: pool.sizeBytes, usedBeforeBytes: pb ? pb.sizeBytes - pb.remainingBytes : 0, usedAfterBytes: pool.sizeBytes - pool.remainingBytes };
    }
  }
  if (session) {
    const { before, current } = session;
    const wasOpen = before !== undefined && before.status !== 'stop';
    o.session = {
      startedNow: !wasOpen && current.status !== 'stop',
      stoppedNow: current.status === 'stop' && (before === undefined || before.status !== 'stop'),
      mccMnc: current.mccMnc,
      imei: current.imei,
      previousMccMnc: before?.mccMnc ?? null,
      previousImei: before?.imei ?? null,
      firstAttach: false,
    };
  }
  observer.observe(o, crossed);
}

function crossedOf(rated: Rated): Crossed {
  const pool = rated.result.pool;
  if (rated.poolKey && pool) {
    return { percents: rated.result.percentsCrossed, of: 'pool', planId: rated.plan.id, cycle: rated.cycle, usedBytes: pool.sizeBytes - pool.remainingBytes, allowanceBytes: pool.sizeBytes };
  }
  const s = rated.result.sim;
  return { percents: rated.result.percentsCrossed, of: 'sim', planId: rated.plan.id, cycle: rated.cycle, usedBytes: s.includedBytes - s.includedRemainingBytes, allowanceBytes: s.includedBytes };
}
