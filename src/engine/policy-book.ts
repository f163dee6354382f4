import type { Db } from '../db/database.ts';
import {
  abnormalTraffic,
  apnAllowed,
  checkImeiLock,
  checkRegion,
  compilePolicy,
  type CompiledPolicy,
  countryOf,
  dailyLimitReached,
  destinationAllowed,
  highRiskArea,
  type HighRiskAreas,
  highRiskAreasOf,
  type ImeiLock,
  imeiLockOf,
  type ViolationKind,
} from '../modules/policies/policy.ts';
import * as repo from '../modules/policies/policy.repository.ts';
import type { SimPolicyRow } from '../modules/policies/policy.repository.ts';
import { loadRatingCatalog } from '../modules/rating/catalog.repository.ts';
import { localDate } from '../shared/time-zone.ts';
import type { HotSim } from './sim-index.ts';

/** A SIM's policy state in memory: its own settings, its bindings and the policy in force (resolved once). */
interface SimPolicyState {
  groupId: string | null;
  commPlanId: string | null;
  imeiLock: ImeiLock | null;
  boundImei: string | null;
  devices: string[];
  boundCountry: string | null;
  policy: CompiledPolicy;
}

/**
 * A SIM's policy state as the book last found it (null: the SIM has none), held on the HotSim so a packet reaches it
 * without a lookup by ICCID; valid while the book's states are of the same generation.
 */
export interface PolicySlot {
  book: object;
  generation: number;
  state: SimPolicyState | null;
}

/** What the network reported about a request or a session, as far as policies read it. */
export interface PolicyInput {
  imei: string | null;
  mccMnc: string | null;
  apn: string | null;
}

export interface PolicyViolation {
  kind: ViolationKind;
  message: string;
  /** Part of the once-a-day key beside SIM and kind (the device, the network), or '' for one a day. */
  detail: string;
  data: Record<string, unknown>;
  /** What enforcement follows: `suspend` (IMEI mismatch), `disconnect` (data blocked), or nothing but the alert. */
  action: 'suspend' | 'disconnect' | 'alert';
}

export type PolicyAccess = { accept: true; policy: CompiledPolicy } | { accept: false; reason: string };

/** Side effects of policy decisions, run beside the hot path (persisting bindings, enforcement, alerts). */
export interface PolicyActions {
  bindImei(sim: HotSim, imei: string, first: boolean): void;
  bindCountry(sim: HotSim, country: string): void;
  violation(sim: HotSim, v: PolicyViolation): void;
}

const DEFAULT = compilePolicy(undefined, []);
const ACTED_MAX = 200_000;

/**
 * The security policies of the usage engine, in memory: every communication plan compiled once, each SIM's policy
 * in force and bindings, the IMEI blacklist and the high-risk areas. Access-Requests and accounting are checked
 * against it without a query; what a check changes (a binding) is changed here at once and persisted by the actions.
 */
export class PolicyBook {
  private plans = new Map<string, CompiledPolicy>();
  private groupPlans = new Map<string, string>();
  private readonly states = new Map<string, SimPolicyState>();
  /** Changes whenever states are put or removed: a HotSim's slot of another generation is looked up again. */
  private generation = 0;
  private blacklist: ReadonlySet<string> = new Set();
  private highRisk: HighRiskAreas = highRiskAreasOf([]);
  /** Violations acted on per SIM, by kind, detail and local day: each is acted on once. */
  private readonly acted = new Map<string, Set<string>>();
  /** Reads of single SIMs' states in flight, by ICCID: the usage items that arrive meanwhile wait for the same read. */
  private readonly preparing = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly actions: PolicyActions,
    private readonly now: () => Date,
  ) {}

  /** Loads plans, group plans, SIM states and the operator lists; `sims` are the SIMs in memory now. */
  async load(sims: Iterable<HotSim>): Promise<{ plans: number; sims: number }> {
    await this.reloadPlans();
    await this.reloadLists();
    for (const row of await repo.loadSimPolicyRows(this.db)) this.put(row);
    this.generation++;
    for (const sim of sims) this.hold(sim);
    return { plans: this.plans.size, sims: this.states.size };
  }

  /** Reads plans, zones and group plans again and re-resolves every SIM's policy. */
  async reloadPlans(): Promise<void> {
    const [{ zones }, plans, groupPlans] = await Promise.all([loadRatingCatalog(this.db), repo.loadCommPlans(this.db), repo.loadGroupPlans(this.db)]);
    this.plans = new Map(plans.map((p) => [p.id, compilePolicy(p, zones)]));
    this.groupPlans = groupPlans;
    for (const s of this.states.values()) s.policy = this.resolve(s.commPlanId, s.groupId);
  }

  async reloadLists(): Promise<void> {
    const [imeis, codes] = await Promise.all([repo.loadBlacklist(this.db), repo.loadHighRiskCodes(this.db)]);
    this.blacklist = new Set(imeis);
    this.highRisk = highRiskAreasOf(codes);
  }

  /** Reads single SIMs' policy state again (after an assignment, a lock change, a reset, a group change). */
  async refresh(iccids: readonly string[]): Promise<void> {
    const rows = await repo.loadSimPolicyRows(this.db, iccids);
    const found = new Set(rows.map((r) => r.iccid));
    for (const iccid of iccids) if (!found.has(iccid)) this.states.delete(iccid);
    // NOTE: states change and the generation moves in one synchronous step after the read, so no packet sees a slot
    // that is current yet points at a replaced state.
    for (const r of rows) this.put(r);
    this.generation++;
  }

  /** True when the SIM's state is known (read at start, or once on first sight); otherwise `prepare` reads it once. */
  isReady(sim: HotSim): boolean {
    return sim.policySlot?.book === this;
  }

  /**
   * Reads the state of a SIM that is not ready, once however many of its usage items arrive before the read ends
   * (a CDR file of a SIM imported since the start holds thousands); they go on in the order they came.
   */
  prepare(sim: HotSim): Promise<void> {
    let read = this.preparing.get(sim.iccid);
    if (!read) {
      read = this.refresh([sim.iccid]).finally(() => this.preparing.delete(sim.iccid));
      this.preparing.set(sim.iccid, read);
    }
    return read.then(() => this.hold(sim));
  }

  /** The policy in force for a SIM. */
  policyOf(sim: HotSim): CompiledPolicy {
    return this.stateOf(sim)?.policy ?? DEFAULT;
  }

  /** Puts the SIM's current state in its slot: from now on it is ready. */
  private hold(sim: HotSim): void {
    sim.policySlot = { book: this, generation: this.generation, state: this.states.get(sim.iccid) ?? null };
  }

  /** The SIM's state: from its slot when that is of this generation, else by ICCID (and the slot brought up to date). */
  private stateOf(sim: HotSim): SimPolicyState | undefined {
    const slot = sim.policySlot;
    if (slot?.book !== this) return this.states.get(sim.iccid);
    if (slot.generation !== this.generation) {
      slot.generation = this.generation;
      slot.state = this.states.get(sim.iccid) ?? null;
    }
    return slot.state ?? undefined;
  }

  /**
   * Decides an Access-Request of a SIM the lifecycle lets on: blacklist, IMEI lock, APN, high-risk areas, region,
   * daily data limit. A refusal names the reason for the Reply-Message; its violation goes to the actions.
   */
  access(sim: HotSim, input: PolicyInput): PolicyAccess {
    const state = this.stateOf(sim);
    const policy = state?.policy ?? DEFAULT;
    const v = this.check(sim, state, policy, input, policy.dailyDataLimitBytes === null ? 0 : this.usedToday(sim));
    if (v) {
      this.act(sim, v);
      return { accept: false, reason: v.message };
    }
    return { accept: true, policy };
  }

  /**
   * Checks usage the engine has counted (a packet of a session, or a CDR record): the same rules as at access, then
   * abnormal daily traffic and directed-access breakout (`destination`: where the usage went, when reported).
   */
  afterUsage(sim: HotSim, input: PolicyInput, destination: string | null = null): void {
    const state = this.stateOf(sim);
    const policy = state?.policy ?? DEFAULT;
    const v = this.check(sim, state, policy, input, sim.usageDayBytes);
    if (v) this.act(sim, v);
    if (abnormalTraffic(policy, sim.usageDayBytes)) {
      this.act(sim, {
        kind: 'abnormal_traffic',
        message: `${sim.usageDayBytes} bytes used on ${sim.usageDay ?? 'this day'}, above the abnormal daily traffic threshold of ${policy.abnormalDailyBytes} bytes`,
        detail: '',
        data: { usageDayBytes: sim.usageDayBytes, thresholdBytes: policy.abnormalDailyBytes },
        action: 'alert',
      });
    }
    if (destination !== null && !destinationAllowed(policy, destination)) {
      this.act(sim, {
        kind: 'directed_breakout',
        message: `usage to ${destination}, which is outside the destination whitelist of communication plan ${policy.planId}`,
        detail: '',
        data: { destination, commPlanId: policy.planId },
        action: 'alert',
      });
    }
  }

  /** The SIM's usage of its current local day (its figure may still be of an earlier day when it has not been used since). */
  private usedToday(sim: HotSim): number {
    return sim.usageDay === localDate(this.now(), sim.timezone) ? sim.usageDayBytes : 0;
  }

  private check(sim: HotSim, state: SimPolicyState | undefined, policy: CompiledPolicy, input: PolicyInput, usageDayBytes: number): PolicyViolation | undefined {
    const { imei, mccMnc } = input;
    if (imei !== null) {
      if (this.blacklist.size > 0 && this.blacklist.has(imei)) {
        return { kind: 'imei_blacklisted', message: `device IMEI ${imei} is blacklisted`, detail: imei, data: { imei }, action: 'disconnect' };
      }
      if (state) {
        const lock = imeiLockOf(policy, state.imeiLock);
        const verdict = checkImeiLock(lock, state.boundImei, state.devices, imei);
        // NOTE: a binding is made in memory in the same step as the check, so a second request racing the first
        // sees it; persisting it follows beside the hot path.
        if (verdict.kind === 'bind') {
          state.boundImei = imei;
          state.devices = [imei];
          this.actions.bindImei(sim, imei, true);
        } else if (verdict.kind === 'add_device') {
          state.devices = [...state.devices, imei];
          this.actions.bindImei(sim, imei, false);
        } else if (verdict.kind === 'mismatch') {
          return { kind: 'imei_mismatch', message: `IMEI mismatch (机卡分离): ${verdict.reason}`, detail: `${imei}>${state.boundImei}`, data: { imei, boundImei: state.boundImei, lock }, action: 'suspend' };
        }
      }
    }
    if (!apnAllowed(policy, input.apn)) {
      return { kind: 'apn_not_allowed', message: `APN ${input.apn} is not allowed by communication plan ${policy.planId}`, detail: input.apn ?? '', data: { apn: input.apn }, action: 'disconnect' };
    }
    if (mccMnc !== null) {
      const country = this.highRisk.countries.size + this.highRisk.networks.size > 0 || policy.regionMode !== 'off' ? countryOf(mccMnc) : null;
      const risky = highRiskArea(this.highRisk, mccMnc, country);
      if (risky !== undefined) {
        return { kind: 'high_risk_area', message: `serving network ${mccMnc} is in the high-risk area ${risky}`, detail: mccMnc, data: { mccMnc, area: risky }, action: 'disconnect' };
      }
      if (policy.regionMode !== 'off') {
        const region = checkRegion(policy, state?.boundCountry ?? null, mccMnc, country, sim.state !== 'active');
        if (region.kind === 'bind' && state) {
          state.boundCountry = region.country;
          this.actions.bindCountry(sim, region.country);
        } else if (region.kind === 'outside') {
          return { kind: 'out_of_region', message: `out of region: ${region.reason}`, detail: mccMnc, data: { mccMnc, country, boundCountry: state?.boundCountry ?? null }, action: 'disconnect' };
        }
      }
    }
    if (dailyLimitReached(policy, usageDayBytes)) {
      return {
        kind: 'data_limit',
        message: `daily data limit of ${policy.dailyDataLimitBytes} bytes reached; data resumes the next local day`,
        detail: '',
        data: { usageDayBytes, limitBytes: policy.dailyDataLimitBytes },
        action: 'disconnect',
      };
    }
    return undefined;
  }

  /** Hands a violation to the actions once per SIM, kind, detail and local day. */
  private act(sim: HotSim, v: PolicyViolation): void {
    const key = `${v.kind}|${v.detail}|${sim.usageDay ?? ''}`;
    let keys = this.acted.get(sim.iccid);
    if (keys?.has(key)) return;
    if (!keys) {
      if (this.acted.size >= ACTED_MAX) this.acted.clear();
      this.acted.set(sim.iccid, (keys = new Set()));
    }
    keys.add(key);
    this.actions.violation(sim, v);
  }

  /** Lets a violation be acted on again (the SIM was rebound, or its suspension lifted). */
  forgetActed(iccid: string): void {
    this.acted.delete(iccid);
  }

  private resolve(commPlanId: string | null, groupId: string | null): CompiledPolicy {
    const id = commPlanId ?? (groupId ? this.groupPlans.get(groupId) : undefined);
    return (id ? this.plans.get(id) : undefined) ?? DEFAULT;
  }

  private put(r: SimPolicyRow): void {
    this.states.set(r.iccid, {
      groupId: r.groupId,
      commPlanId: r.commPlanId,
      imeiLock: r.imeiLock,
      boundImei: r.imei,
      devices: r.devices.length ? r.devices : r.imei ? [r.imei] : [],
      boundCountry: r.boundCountry,
      policy: this.resolve(r.commPlanId, r.groupId),
    });
  }
}
