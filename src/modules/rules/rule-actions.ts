/**
 * Executes the actions of a recorded firing, as the rule's own account (so a rule can only act on SIMs its account
 * sees), and returns one result per action. Channels that are not configured give `skipped`.
 */
import type { Db, Executor } from '../../db/database.ts';
import { AppError } from '../../shared/errors.ts';
import type { Principal, Role } from '../accounts/account.ts';
import type { LifecycleService } from '../sims/lifecycle.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import type { TopUpService } from '../rating/top-up.service.ts';
import { MB, type Rule, type RuleAction } from './rule.ts';
import type { ActionResult, RuleFiring } from './rule.repository.ts';

/** An event as the events outbox takes it (see modules/events). */
export interface OutgoingEvent {
  type: string;
  accountId: string;
  subject: { kind: 'sim' | 'group' | 'pool' | 'account' | 'webhook' | 'order' | 'alert' | 'sms'; id: string };
  data: Record<string, unknown>;
  occurredAt?: Date;
}

/** Where rules publish events (webhooks consume them); `available` false while no outbox is wired. */
export interface EventOutlet {
  readonly available: boolean;
  /** Publishes with `db`: the transaction of the change the events report. */
  publish(db: Executor, events: OutgoingEvent[], at: Date): Promise<void>;
}

/** Email and SMS delivery (modules/notifications); with `available` false every use is recorded as skipped. */
export interface Notifier {
  readonly available: boolean;
  email(m: { accountId: string; to: string[]; template: string; lang: 'zh' | 'en'; vars: Record<string, unknown> }): Promise<{ id: string; status: string }>;
  sms(m: { accountId: string; to: string; text: string; iccid?: string }): Promise<{ id: string; status: string }>;
}

/** What the firings acted on together share: principals by rule, and the events to publish with their completion. */
export interface ActionBatch {
  principals: Map<string, Principal>;
  events: OutgoingEvent[];
}

export const newActionBatch = (): ActionBatch => ({ principals: new Map(), events: [] });

const ADMIN_OF: Record<string, Role> = { operator: 'operator_admin', reseller: 'reseller_admin', enterprise: 'enterprise_admin' };

const SKIPPED_CHANNEL = 'channel not available';
const WEBHOOK_DONE = 'rule.fired published';

export class RuleActions {
  constructor(
    private readonly db: Db,
    private readonly sims: SimService,
    private readonly lifecycle: LifecycleService,
    private readonly topUps: TopUpService,
    private readonly outlet: () => EventOutlet,
    private readonly notifier: () => Notifier,
  ) {}

  /**
   * The results of a rule whose actions only publish events (webhooks), so they can run in the transaction that
   * records its firing, exactly once; undefined for a rule with any other action.
   */
  resultsWithRecording(rule: Rule): ActionResult[] | undefined {
    if (!this.outlet().available || rule.actions.some((a) => a.type !== 'webhook')) return undefined;
    return rule.actions.map((a) => ({ type: a.type, status: 'ok', detail: WEBHOOK_DONE }));
  }

  /** The rule acting as its account's admin, recorded as actor `rule:<id>`. */
  async principalOf(rule: Pick<Rule, 'accountId' | 'id'>): Promise<Principal> {
    const a = await this.db.selectFrom('accounts').select(['id', 'path', 'kind']).where('id', '=', rule.accountId).executeTakeFirstOrThrow();
    return { accountId: a.id, accountPath: a.path, accountKind: a.kind, role: ADMIN_OF[a.kind] ?? 'read_only', actor: `rule:${rule.id}`, source: 'api' };
  }

  /**
   * Runs every action of a firing in order; one failing does not stop the others. `batch` is shared by the firings
   * acted on together: it keeps each rule's principal, and takes the `rule.fired` events of webhook actions, which
   * the caller publishes in the transaction that completes those firings.
   */
  async run(rule: Rule, firing: RuleFiring, batch: ActionBatch): Promise<ActionResult[]> {
    let principal = batch.principals.get(rule.id);
    if (!principal) batch.principals.set(rule.id, (principal = await this.principalOf(rule)));
    const out: ActionResult[] = [];
    for (const action of rule.actions) {
      try {
        out.push(await this.runOne(rule, firing, action, principal, batch));
      } catch (e) {
        const detail = e instanceof AppError ? `${e.code}: ${e.message}` : (e as Error).message;
        out.push({ type: action.type, status: 'failed', detail });
      }
    }
    return out;
  }

  private async runOne(rule: Rule, firing: RuleFiring, action: RuleAction, principal: Principal, batch: ActionBatch): Promise<ActionResult> {
    const ok = (detail: string | null = null): ActionResult => ({ type: action.type, status: 'ok', detail });
    const skipped = (detail: string): ActionResult => ({ type: action.type, status: 'skipped', detail });
    const reason = `rule ${rule.id} (${rule.name})${firing.stage ? ` stage ${firing.stage}` : ''}`;
    const vars = templateVars(rule, firing, reason);
    switch (action.type) {
      case 'webhook': {
        if (!this.outlet().available) return skipped(SKIPPED_CHANNEL);
        batch.events.push({ ...firedEvent(rule, firing), occurredAt: firing.firedAt });
        return ok(WEBHOOK_DONE);
      }
      case 'notify_email': {
        const n = this.notifier();
        if (!n.available) return skipped(SKIPPED_CHANNEL);
        const m = await n.email({ accountId: rule.accountId, to: action.to, template: action.template, lang: action.lang, vars });
        return ok(`message ${m.id} ${m.status}`);
      }
      case 'notify_sms': {
        const n = this.notifier();
        if (!n.available) return skipped(SKIPPED_CHANNEL);
        const m = await n.sms({ accountId: rule.accountId, to: action.to, text: action.text ?? `Meridian: ${reason} fired for ${firing.subject.kind} ${firing.subject.id}` });
        return ok(`message ${m.id} ${m.status}`);
      }
      default:
        break;
    }
    const iccid = firing.iccid;
    if (!iccid || firing.subject.kind !== 'sim') return skipped(`${action.type} acts on a SIM; the subject is a ${firing.subject.kind}`);
    switch (action.type) {
      case 'suspend':
      case 'activate': {
        const row = await this.sims.getSimRow(principal, iccid);
        const to = action.type === 'suspend' ? 'suspended' : 'active';
        const [r] = await this.lifecycle.transition(
          [row],
          { state: to, ...(to === 'suspended' ? { suspendReason: 'rule' as const } : {}), reason: action.reason ?? reason },
          { source: 'rule', actor: principal.actor },
        );
        if (!r!.ok) throw new AppError(r!.code ?? 'transition_failed', r!.message ?? 'the state change failed');
        return ok(r!.code === 'unchanged' ? `already ${to}` : `${r!.from} -> ${to}`);
      }
      case 'change_plan':
        await this.sims.updateSim(principal, iccid, { planId: action.planId, reason });
        return ok(`plan ${action.planId}`);
      case 'top_up': {
        const t = await this.topUps.addTopUp(principal, iccid, { bytes: action.megabytes * MB, ...(action.validMonths ? { validMonths: action.validMonths } : {}) });
        return ok(`top-up ${t.id}`);
      }
      case 'reset_imei':
        await this.sims.updateSim(principal, iccid, { imei: null, reason });
        return ok('IMEI cleared');
      case 'device_sms': {
        const n = this.notifier();
        if (!n.available) return skipped(SKIPPED_CHANNEL);
        const row = await this.sims.getSimRow(principal, iccid);
        if (!row.msisdn) return skipped(`SIM ${iccid} has no MSISDN`);
        const m = await n.sms({ accountId: row.account_id, to: row.msisdn, text: action.text, iccid });
        return ok(`message ${m.id} ${m.status}`);
      }
    }
  }
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v));

/** Variables for any e-mail template: the generic one (title, message) and the usage, expiry and test-period ones. */
function templateVars(rule: Rule, firing: RuleFiring, reason: string): Record<string, string> {
  const i = firing.inputs;
  const subject = `${firing.subject.kind} ${firing.subject.id}`;
  const details = Object.entries(i)
    .map(([k, v]) => `${k}: ${text(v)}`)
    .join(', ');
  return {
    title: `Meridian: ${rule.name}`,
    message: `${reason} fired for ${subject} (${firing.period})${details ? `; ${details}` : ''}`,
    subject,
    iccid: firing.iccid ?? '',
    percent: text(i.stage ?? firing.stage),
    used: text(i.usedBytes),
    limit: text(i.allowanceBytes ?? i.thresholdBytes),
    expiresAt: text(i.expiresAt),
    endsAt: text(i.testEndsAt),
    reason,
    severity: 'warning',
    rule: rule.name,
    ruleId: rule.id,
    stage: firing.stage,
    period: firing.period,
  };
}

/** The `rule.fired` event of a firing. */
export function firedEvent(rule: Rule, firing: Pick<RuleFiring, 'id' | 'subject' | 'iccid' | 'period' | 'stage' | 'inputs' | 'firedAt'>): OutgoingEvent {
  return {
    type: 'rule.fired',
    accountId: rule.accountId,
    subject: firing.iccid ? { kind: 'sim', id: firing.iccid } : { kind: firing.subject.kind, id: firing.subject.id },
    data: {
      ruleId: rule.id,
      ruleName: rule.name,
      firingId: firing.id,
      trigger: rule.trigger.type,
      subject: firing.subject,
      period: firing.period,
      stage: firing.stage,
      inputs: firing.inputs,
      firedAt: firing.firedAt.toISOString(),
    },
  };
}
