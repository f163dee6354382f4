import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Db, StatementRunner } from '../db/database.ts';
import type { JobService } from '../modules/jobs/job.service.ts';
import { AUTOMATIC_RETRY_MS, type LifecycleService, type TransitionInput } from '../modules/sims/lifecycle.service.ts';
import type { SimService } from '../modules/sims/sim.service.ts';
import type { AccountService } from '../modules/accounts/account.service.ts';
import { findSimRows } from '../modules/sims/sim.repository.ts';
import type { TopUpService } from '../modules/rating/top-up.service.ts';
import { CdrService } from '../modules/usage/cdr.service.ts';
import type { Clock } from '../shared/clock.ts';
import { chunk } from '../shared/chunk.ts';
import { localMonth } from '../shared/time-zone.ts';
import type { GatewayService } from '../modules/gateways/gateway.service.ts';
import { DynamicAuthorizationClient } from '../radius/disconnect-client.ts';
import { RadiusDisconnectSender } from '../radius/mapping.ts';
import type { PolicyService } from '../modules/policies/policy.service.ts';
import { addDevice, bindCountry, bindImei } from '../modules/policies/policy.repository.ts';
import { recordSimChange, recordViolations } from '../modules/policies/violations.ts';
import type { AlertService } from '../modules/alerts/alert.service.ts';
import { localDate } from '../shared/time-zone.ts';
import { BARRED_STATES, Enforcement } from './enforcement.ts';
import { PolicyBook, type PolicyViolation } from './policy-book.ts';
import { GatewayCache } from './gateway-directory.ts';
import { type HotSim, SimIndex } from './sim-index.ts';
import { UsageEngine } from './usage-engine.ts';

const BLOCKED_RETRY_MS = 30_000;
const RESUME_CHUNK = 1000;

/**
 * The network side of the platform: the in-memory SIM index, the usage engine and the CDR importer, wired to
 * the lifecycle (usage can activate a SIM; every state change refreshes the SIM in memory).
 */
export async function createNetworkSide(d: {
  db: Db;
  dialect: 'postgres' | 'pglite';
  run: StatementRunner;
  clock: Clock;
  log: Logger;
  config: Config;
  lifecycle: LifecycleService;
  jobs: JobService;
  gateways: GatewayService;
  sims: SimService;
  accounts: AccountService;
  topUps: TopUpService;
  policies: PolicyService;
  alerts: AlertService;
}) {
  const index = new SimIndex(d.db);
  const inFlight = new Set<string>();
  /** SIMs whose usage-driven transition the network refused, and until when not to ask again. */
  const refusedUntil = new Map<string, number>();
  /** When a SIM was last disconnected for using a network its plan blocks. */
  const blockedAt = new Map<string, number>();
  // NOTE: usage-driven transitions run beside the hot path (provisioning can be slow); one at a time per SIM.
  const transition = (sim: HotSim, input: TransitionInput, actor: string): void => {
    if (inFlight.has(sim.iccid) || (refusedUntil.get(sim.iccid) ?? 0) > Date.now()) return;
    inFlight.add(sim.iccid);
    findSimRows(d.db, [sim.iccid], { path: '/', isRoot: true })
      .then((rows) => d.lifecycle.transition(rows, input, { source: 'network', actor }))
      .then((results) => {
        if (results.some((r) => !r.ok && r.code !== 'unchanged')) refusedUntil.set(sim.iccid, Date.now() + AUTOMATIC_RETRY_MS);
        else refusedUntil.delete(sim.iccid);
      })
      .catch((err: unknown) => d.log.error({ err, iccid: sim.iccid }, 'usage-driven transition failed'))
      .finally(() => inFlight.delete(sim.iccid));
  };
  const policyBook = new PolicyBook(d.db, {
    bindImei(sim, imei, first) {
      const now = d.clock.now();
      const device = { iccid: sim.iccid, accountId: sim.accountId, imei };
      const write = first
        ? d.db.transaction().execute(async (trx) => {
            if (await bindImei(trx, device, now)) await recordSimChange(trx, networkChange(sim, 'imei', null, imei, 'IMEI lock: bound to the first device seen'), now);
          })
        : addDevice(d.db, device, now);
      write.catch((err: unknown) => d.log.error({ err, iccid: sim.iccid, imei }, 'could not store an IMEI binding'));
    },
    bindCountry(sim, country) {
      const now = d.clock.now();
      d.db
        .transaction()
        .execute(async (trx) => {
          await bindCountry(trx, sim.iccid, country, now);
          await recordSimChange(trx, networkChange(sim, 'bound_country', null, country, 'region restriction: bound to the country of first activation'), now);
        })
        .catch((err: unknown) => d.log.error({ err, iccid: sim.iccid, country }, 'could not store a region binding'));
    },
    violation: (sim, v) => onViolation(sim, v),
  }, () => d.clock.now());
  const onViolation = (sim: HotSim, v: PolicyViolation): void => {
    const now = d.clock.now();
    const day = localDate(now, sim.timezone);
    recordViolations(d.db, d.alerts, [{ accountId: sim.accountId, iccid: sim.iccid, kind: v.kind, message: v.message, data: v.data, dedupeKey: `${sim.iccid}|${v.kind}|${v.detail}|${day}`, occurredAt: now }]).catch(
      (err: unknown) => d.log.error({ err, iccid: sim.iccid, kind: v.kind }, 'could not record a policy violation'),
    );
    if (v.action === 'alert') return;
    if (v.action === 'suspend' && (sim.state === 'active' || sim.state === 'test' || sim.state === 'silent')) {
      // NOTE: the suspension disconnects the SIM's sessions through the lifecycle's state-change listener below.
      return transition(sim, { state: 'suspended', suspendReason: 'imei_mismatch', reason: v.message }, 'system:policy');
    }
    void enforcement.disconnectSim({ iccid: sim.iccid, accountId: sim.accountId }, { source: 'network', actor: 'system:policy', reason: v.message });
  };
  const usage = new UsageEngine(
    d.db,
    d.clock,
    index,
    d.log,
    {
      maxBatch: d.config.radius.commitMaxBatch,
      maxQueue: d.config.radius.commitMaxQueue,
      sessionTimeoutSeconds: d.config.radius.sessionTimeoutSeconds,
      lanes: d.dialect === 'postgres' ? d.config.radius.commitLanes : 1,
      commitIntervalMs: d.config.radius.commitIntervalMs,
      run: d.run,
    },
    {
      onTransitionNeeded: (sim, to, reason) => transition(sim, { state: to, reason }, 'system:usage'),
      onDataAgain: (sim, detail) => transition(sim, { state: 'active', reason: detail }, 'system:rating'),
      onUsage(sim, session, external) {
        const input = session ?? { imei: null, mccMnc: external?.mccMnc ?? null, apn: external?.apn ?? null };
        const destination = external?.destination ?? null;
        if (policyBook.isReady(sim)) return policyBook.afterUsage(sim, input, destination);
        policyBook
          .prepare(sim)
          .then(() => policyBook.afterUsage(sim, input, destination))
          .catch((err: unknown) => d.log.error({ err, iccid: sim.iccid }, 'could not read the policy state of a SIM'));
      },
      onEnforcement(sim, kind, detail, durable) {
        if (kind === 'out_of_coverage') {
          // NOTE: every packet from a network the plan blocks asks again; one disconnect per SIM and half minute.
          if ((blockedAt.get(sim.iccid) ?? 0) > Date.now() - BLOCKED_RETRY_MS) return;
          blockedAt.set(sim.iccid, Date.now());
        }
        // NOTE: the session is cut off at once, on the decision in memory; the suspension is written once the usage
        // that caused it is durable, and its own disconnect finds this one in flight (ADR 0029).
        void enforcement.disconnectSim({ iccid: sim.iccid, accountId: sim.accountId }, { source: 'network', actor: 'system:rating', reason: detail });
        if (kind === 'out_of_coverage') return;
        durable.then(
          () => transition(sim, { state: 'suspended', suspendReason: 'quota', reason: detail }, 'system:rating'),
          () => undefined,
        );
      },
    },
  );
  const gatewayCache = new GatewayCache(d.gateways, d.log);
  const disconnects = new DynamicAuthorizationClient();
  const enforcement = new Enforcement(
    d.db,
    d.clock,
    usage,
    gatewayCache,
    new RadiusDisconnectSender(disconnects, { timeoutMs: d.config.radius.disconnectTimeoutMs, retries: d.config.radius.disconnectRetries }),
    d.log,
  );
  d.lifecycle.onStateChanged((e) => {
    void refresh(e.iccid);
    policyBook.forgetActed(e.iccid);
    // NOTE: a SIM that may no longer be online is cut off at once, beside the request that changed it.
    if (BARRED_STATES.includes(e.to)) {
      void enforcement.disconnectSim({ iccid: e.iccid, accountId: e.accountId }, { source: e.source, actor: 'system:enforcement', reason: `SIM ${e.to}${e.reason ? `: ${e.reason}` : ''}` });
    }
  });
  // NOTE: pool membership is taken once the SIM in memory is fresh, so a pool is never sized from the row before.
  const refresh = (iccid: string) =>
    index
      .refresh(iccid)
      .then((sim) => (sim ? usage.rating.track(sim) : usage.rating.forgetMember(iccid)))
      .catch((err: unknown) => d.log.error({ err, iccid }, 'could not refresh a SIM in memory'));
  d.sims.onSimsChanged((iccids) => {
    iccids.forEach((iccid) => void refresh(iccid));
    reloadPolicies(() => policyBook.refresh(iccids));
  });
  // NOTE: policy reloads run one after the other, so an older read never replaces a newer one.
  let policyReload = Promise.resolve();
  const reloadPolicies = (load: () => Promise<void>): void => {
    policyReload = policyReload.then(load).catch((err: unknown) => d.log.error({ err }, 'could not reload policies'));
  };
  d.policies.onChanged((c) => {
    if (c.kind === 'plans' || c.kind === 'groups') reloadPolicies(() => policyBook.reloadPlans());
    else if (c.kind === 'lists') reloadPolicies(() => policyBook.reloadLists());
    else {
      c.iccids.forEach((iccid) => policyBook.forgetActed(iccid));
      reloadPolicies(() => policyBook.refresh(c.iccids));
    }
  });
  d.topUps.onTopUp((t) => {
    usage.addTopUp(t).catch((err: unknown) => d.log.error({ err, topUp: t.id }, 'could not add a top-up to the balance in memory'));
  });
  d.accounts.onAccountDeleted(() => {
    gatewayCache.reload().catch((err: unknown) => d.log.error({ err }, 'could not reload gateways'));
  });
  const loaded = { ...(await usage.start()), gateways: await gatewayCache.reload() };
  Object.assign(loaded, { policies: await policyBook.load(index.all()) });
  d.log.info(loaded, 'usage engine loaded');
  const cdr = new CdrService(d.db, d.jobs, usage);
  /**
   * SIMs suspended for quota whose rated cycle has ended get their data again: they become active with the new
   * cycle (their next usage opens a new balance). A SIM suspended with reason quota that was never rated is left as
   * it is. Runs from the scheduler; returns how many were resumed.
   */
  const resumeForNewCycle = async (): Promise<number> => {
    const now = d.clock.now();
    const suspended = await d.db.selectFrom('sims').select('iccid').where('state', '=', 'suspended').where('suspend_reason', '=', 'quota').execute();
    const due = suspended
      .map((r) => index.getByIccid(r.iccid))
      .filter((sim): sim is HotSim => sim !== undefined && !inFlight.has(sim.iccid))
      .filter((sim) => {
        const held = usage.rating.balanceOf(sim.iccid);
        return held !== undefined && held.cycle < localMonth(now, sim.timezone);
      });
    // NOTE: one state change per new month (time zones can be in different months), each for all its SIMs.
    const byMonth = new Map<string, string[]>();
    for (const sim of due) {
      const month = localMonth(now, sim.timezone);
      const list = byMonth.get(month);
      if (list) list.push(sim.iccid);
      else byMonth.set(month, [sim.iccid]);
    }
    let resumed = 0;
    for (const [month, iccids] of byMonth) {
      for (const part of chunk(iccids, RESUME_CHUNK)) {
        const rows = await findSimRows(d.db, part, { path: '/', isRoot: true });
        const results = await d.lifecycle.transition(rows, { state: 'active', reason: `billing cycle ${month} began: data allowance renewed` }, { source: 'network', actor: 'system:rating' });
        resumed += results.filter((r) => r.ok).length;
      }
    }
    return resumed;
  };

  return {
    index,
    usage,
    cdr,
    gatewayCache,
    enforcement,
    policies: policyBook,
    /** Reads plans again after a change to the zone catalogue (region rules name zones). */
    reloadPolicyPlans: () => reloadPolicies(() => policyBook.reloadPlans()),
    resumeForNewCycle,
    async close() {
      await usage.drain();
      await disconnects.close();
    },
  };
}

export type NetworkSide = Awaited<ReturnType<typeof createNetworkSide>>;

/** A change made by the network side's policies. */
function networkChange(sim: HotSim, field: string, oldValue: string | null, newValue: string | null, reason: string) {
  return { accountId: sim.accountId, iccid: sim.iccid, field, oldValue, newValue, source: 'network' as const, actor: 'system:policy', reason };
}
