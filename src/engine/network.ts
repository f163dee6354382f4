import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/database.ts';
import type { JobService } from '../modules/jobs/job.service.ts';
import type { LifecycleService } from '../modules/sims/lifecycle.service.ts';
import { findSimRows } from '../modules/sims/sim.repository.ts';
import { CdrService } from '../modules/usage/cdr.service.ts';
import type { Clock } from '../shared/clock.ts';
import { SimIndex } from './sim-index.ts';
import { UsageEngine } from './usage-engine.ts';

/**
 * The network side of the platform: the in-memory SIM index, the usage engine and the CDR importer, wired to
 * the lifecycle (usage can activate a SIM; every state change refreshes the SIM in memory).
 */
export async function createNetworkSide(d: { db: Db; clock: Clock; log: Logger; config: Config; lifecycle: LifecycleService; jobs: JobService }) {
  const index = new SimIndex(d.db);
  const inFlight = new Set<string>();
  const usage = new UsageEngine(
    d.db,
    d.clock,
    index,
    d.log,
    { maxBatch: d.config.radius.commitMaxBatch, maxQueue: d.config.radius.commitMaxQueue, sessionTimeoutSeconds: d.config.radius.sessionTimeoutSeconds },
    {
      // NOTE: usage-driven transitions run beside the hot path (provisioning can be slow); one at a time per SIM.
      onTransitionNeeded(sim, to, reason) {
        if (inFlight.has(sim.iccid)) return;
        inFlight.add(sim.iccid);
        findSimRows(d.db, [sim.iccid], { path: '/', isRoot: true })
          .then((rows) => d.lifecycle.transition(rows, { state: to, reason }, { source: 'network', actor: 'system:usage' }))
          .catch((err: unknown) => d.log.error({ err, iccid: sim.iccid }, 'usage-driven transition failed'))
          .finally(() => inFlight.delete(sim.iccid));
      },
    },
  );
  d.lifecycle.onStateChanged((e) => {
    index.refresh(e.iccid).catch((err: unknown) => d.log.error({ err, iccid: e.iccid }, 'could not refresh a SIM in memory'));
  });
  const loaded = await usage.start();
  d.log.info(loaded, 'usage engine loaded');
  const cdr = new CdrService(d.db, d.jobs, usage);
  return { index, usage, cdr };
}
