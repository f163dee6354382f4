import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Principal } from '../accounts/account.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import { sumSms } from '../notifications/sms-usage.repository.ts';
import * as repo from './usage.repository.ts';
import type { UsageSubject } from './usage.repository.ts';
import {
  addTotals,
  type Granularity,
  localDate,
  localMonth,
  planBuckets,
  resolveRange,
  startOfLocalDay,
  startOfLocalMonth,
  type UsageReport,
  ZERO,
} from './usage.ts';

export interface UsageQuery {
  granularity: Granularity;
  /** RFC 3339 time, or a date YYYY-MM-DD meaning local midnight in the subject's time zone. */
  from?: string;
  /** Exclusive; same forms as `from`. */
  to?: string;
}

/** Usage reports from the hourly aggregates, bucketed in the time zone of the subject's account. */
export class UsageReportService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly groups: GroupService,
    private readonly sims: SimService,
  ) {}

  async getSimUsage(principal: Principal, iccid: string, query: UsageQuery): Promise<UsageReport> {
    const sim = await this.sims.getSimRow(principal, iccid);
    const account = await this.accounts.getAccount(principal, sim.account_id);
    return this.report(principal, { kind: 'sim', iccid }, iccid, account.timezone, query);
  }

  /** Usage of the SIMs currently in a group. */
  async getGroupUsage(principal: Principal, groupId: string, query: UsageQuery): Promise<UsageReport> {
    const group = await this.groups.getGroup(principal, groupId);
    const account = await this.accounts.getAccount(principal, group.accountId);
    return this.report(principal, { kind: 'group', groupId }, groupId, account.timezone, query);
  }

  /** Usage of an account's SIMs, with those of its descendant accounts unless `descendants` is false. */
  async getAccountUsage(principal: Principal, accountId: string, query: UsageQuery & { descendants?: boolean }): Promise<UsageReport> {
    const account = await this.accounts.getAccount(principal, accountId);
    const subject: UsageSubject = { kind: 'account', accountId, descendantsPath: query.descendants === false ? undefined : account.path };
    return this.report(principal, subject, accountId, account.timezone, query);
  }

  private async report(principal: Principal, subject: UsageSubject, id: string, timezone: string, query: UsageQuery): Promise<UsageReport> {
    const now = this.clock.now();
    const range = resolveRange(query.granularity, now, timezone, query);
    const plan = planBuckets(query.granularity, range, timezone);
    const thresholds = [...plan.map((b) => b.start), range.to];
    const today = { from: startOfLocalDay(now, timezone), to: startOfLocalDay(now, timezone, 1) };
    const cycle = { from: startOfLocalMonth(now, timezone), to: startOfLocalMonth(now, timezone, 1) };
    const [sums, current, sms] = await Promise.all([
      repo.sumByBucket(this.db, subject, principal.accountPath, thresholds),
      repo.sumRanges(this.db, subject, principal.accountPath, cycle, { today, cycle }),
      sumSms(this.db, subject, principal.accountPath, cycle),
    ]);
    const buckets = plan.map((b, i) => ({ ...b, ...(sums.get(i) ?? ZERO) }));
    return {
      subject: { kind: subject.kind, id },
      timezone,
      granularity: query.granularity,
      from: range.from,
      to: range.to,
      buckets,
      total: buckets.reduce((sum, b) => addTotals(sum, b), ZERO),
      today: { date: localDate(now, timezone), ...current.today },
      thisCycle: { month: localMonth(now, timezone), ...current.cycle, sms },
    };
  }
}
