import type { Config } from './config/config.ts';
import type { Db } from './db/database.ts';
import type { AccountService } from './modules/accounts/account.service.ts';
import type { AuthService } from './modules/auth/auth.service.ts';
import type { BillService } from './modules/billing/bill.service.ts';
import type { TrafficRuleService } from './modules/billing/traffic-rule.service.ts';
import type { GatewayService } from './modules/gateways/gateway.service.ts';
import type { GroupService } from './modules/groups/group.service.ts';
import type { JobService } from './modules/jobs/job.service.ts';
import type { NotificationService } from './modules/notifications/notification.service.ts';
import type { ProvisioningAdapter } from './modules/provisioning/provisioning.ts';
import type { PolicyService } from './modules/policies/policy.service.ts';
import type { CatalogService } from './modules/rating/catalog.service.ts';
import type { TopUpService } from './modules/rating/top-up.service.ts';
import type { SessionService } from './modules/sessions/session.service.ts';
import type { BulkService } from './modules/sims/bulk.service.ts';
import type { LifecycleService } from './modules/sims/lifecycle.service.ts';
import type { SimImportService } from './modules/sims/sim-import.service.ts';
import type { SimService } from './modules/sims/sim.service.ts';
import type { Clock } from './shared/clock.ts';
import type { UsageEngine } from './engine/usage-engine.ts';
import type { CdrService } from './modules/usage/cdr.service.ts';
import type { UsageReportService } from './modules/usage/usage.service.ts';
import type { EventService } from './modules/events/event.service.ts';
import type { AlertService } from './modules/alerts/alert.service.ts';
import type { WebhookService } from './modules/webhooks/webhook.service.ts';

/** Everything the edges (HTTP, CLI, jobs) call: built once by the composition root. */
export interface Services {
  config: Config;
  db: Db;
  clock: Clock;
  accounts: AccountService;
  auth: AuthService;
  groups: GroupService;
  sims: SimService;
  lifecycle: LifecycleService;
  imports: SimImportService;
  bulk: BulkService;
  jobs: JobService;
  provisioning: ProvisioningAdapter;
  usage: UsageEngine;
  cdr: CdrService;
  gateways: GatewayService;
  sessions: SessionService;
  usageReports: UsageReportService;
  catalog: CatalogService;
  topUps: TopUpService;
  bills: BillService;
  trafficRules: TrafficRuleService;
  events: EventService;
  alerts: AlertService;
  webhooks: WebhookService;
  /** E-mail and SMS: other modules queue messages through `email` and `sms`. */
  notifications: NotificationService;
  policies: PolicyService;
}
