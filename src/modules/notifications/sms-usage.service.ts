/** SMS as usage: each SMS of a SIM stored once as a rated record; SMS in the test period count towards its SMS allowance. */
import type { Logger } from 'pino';
import type { Db, Executor } from '../../db/database.ts';
import { localMonth } from '../../shared/time-zone.ts';
import type { RatePlan } from '../rating/rate-plan.ts';
import type { LifecycleService } from '../sims/lifecycle.service.ts';
import { findSimRows } from '../sims/sim.repository.ts';
import * as repo from './sms-usage.repository.ts';
import { chargeSms, type SmsCharge } from './sms-usage.ts';

export interface SmsUsageInput {
  smsId: string;
  dedupeKey: string;
  iccid: string;
  direction: 'mo' | 'mt';
  /** Segments of the message: each is one billed message. */
  parts: number;
  at: Date;
}

/** What recording one SMS did: nothing (a duplicate, or its SIM is gone), or a record; `testEnded` asks for activation. */
export type SmsUsageOutcome =
  | { recorded: false }
  | { recorded: true; iccid: string; planId: string | null; cycle: string; charge: SmsCharge; testEnded: { allowance: number } | null };

export class SmsUsageService {
  constructor(
    private readonly db: Db,
    /** The version of a rate plan in force at a time (the usage engine's catalogue). */
    private readonly planAt: (planId: string, at: Date) => RatePlan | undefined,
    private readonly lifecycle: LifecycleService,
    private readonly log: Logger,
  ) {}

  /** Whether an SMS with this key was counted already (an MO retransmission). */
  isCounted(db: Executor, dedupeKey: string): Promise<boolean> {
    return repo.isCounted(db, dedupeKey);
  }

  /**
   * Rates and stores one SMS of a SIM in the caller's transaction (the one that stores or submits the message), so
   * that the message and its record commit together. Call `settle` with the outcome after the commit.
   */
  async record(trx: Executor, input: SmsUsageInput): Promise<SmsUsageOutcome> {
    // NOTE: the SIM row is locked: the included SMS of a cycle are counted by one transaction at a time.
    const sim = await repo.lockSmsSim(trx, input.iccid);
    if (!sim) return { recorded: false };
    const cycle = localMonth(input.at, sim.timezone);
    const plan = sim.planId ? this.planAt(sim.planId, input.at) : undefined;
    const inTest = sim.state === 'test';
    const before = plan && !inTest ? await repo.countedSms(trx, sim.iccid, cycle, plan.id) : 0;
    const charge = chargeSms(plan, before, input.parts, inTest);
    const stored = await repo.insertSmsRecord(trx, {
      ...charge,
      dedupeKey: input.dedupeKey,
      smsId: input.smsId,
      accountId: sim.accountId,
      iccid: sim.iccid,
      direction: input.direction,
      parts: input.parts,
      planId: plan?.id ?? null,
      cycle,
      at: input.at,
    });
    if (!stored) return { recorded: false };
    let testEnded: { allowance: number } | null = null;
    if (inTest) {
      const test = await repo.addTestSms(trx, sim.iccid, input.parts);
      if (test.allowance !== null && test.used >= test.allowance) testEnded = { allowance: test.allowance };
    }
    return { recorded: true, iccid: sim.iccid, planId: plan?.id ?? null, cycle, charge, testEnded };
  }

  /** After the commit: a SIM whose SMS test allowance is used up becomes active (change record and event by the lifecycle). */
  async settle(outcome: SmsUsageOutcome): Promise<void> {
    if (!outcome.recorded || !outcome.testEnded) return;
    try {
      const rows = await findSimRows(this.db, [outcome.iccid], { path: '/', isRoot: true });
      if (rows[0]?.state !== 'test') return;
      await this.lifecycle.transition(rows, { state: 'active', reason: `test allowance of ${outcome.testEnded.allowance} SMS used up` }, { source: 'network', actor: 'system:usage' });
    } catch (err) {
      this.log.error({ err, iccid: outcome.iccid }, 'could not end the test period of a SIM whose SMS test allowance is used up');
    }
  }
}
