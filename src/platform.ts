import pino, { type Logger } from 'pino';
import type { Config } from './config/config.ts';
import { migrateToLatest, type OpenDatabase, openDatabase } from './db/open-database.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { createNetworkSide, type NetworkSide } from './engine/network.ts';
import { CdrDropFolder } from './jobs/cdr-watcher.ts';
import { NotificationSender } from './jobs/notification-sender.ts';
import { NotificationService } from './modules/notifications/notification.service.ts';
import { SmsUsageService } from './modules/notifications/sms-usage.service.ts';
import { SmtpTransport } from './notify/smtp-transport.ts';
import { SmppClient } from './smpp/smpp-client.ts';
import { systemPrincipal } from './modules/accounts/bootstrap.ts';
import { AccountService } from './modules/accounts/account.service.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { BillService } from './modules/billing/bill.service.ts';
import { findPdfFont } from './modules/billing/pdf-font.ts';
import { TrafficRuleService } from './modules/billing/traffic-rule.service.ts';
import { GatewayService } from './modules/gateways/gateway.service.ts';
import { GroupService } from './modules/groups/group.service.ts';
import { pruneKeys } from './modules/idempotency/idempotency.repository.ts';
import { JobService } from './modules/jobs/job.service.ts';
import { HttpProvisioningAdapter } from './modules/provisioning/http.adapter.ts';
import type { ProvisioningAdapter } from './modules/provisioning/provisioning.ts';
import { SimulatedProvisioningAdapter } from './modules/provisioning/simulated.adapter.ts';
import { PolicyService } from './modules/policies/policy.service.ts';
import { publishEvents } from './modules/events/event.repository.ts';
import { CatalogService } from './modules/rating/catalog.service.ts';
import { TopUpService } from './modules/rating/top-up.service.ts';
import { PoolService } from './modules/rating/pool.service.ts';
import { TopUpProductService } from './modules/rating/top-up-product.service.ts';
import { InvoiceService } from './modules/orders/invoice.service.ts';
import { OrderService } from './modules/orders/order.service.ts';
import { PrepaidTermService } from './modules/orders/prepaid-term.service.ts';
import { SessionService } from './modules/sessions/session.service.ts';
import { BulkService } from './modules/sims/bulk.service.ts';
import { LifecycleService } from './modules/sims/lifecycle.service.ts';
import { SimImportService } from './modules/sims/sim-import.service.ts';
import { SimService } from './modules/sims/sim.service.ts';
import { UsageReportService } from './modules/usage/usage.service.ts';
import { type EventOutlet, type Notifier, RuleActions } from './modules/rules/rule-actions.ts';
import { RuleRuntime } from './modules/rules/rule-runtime.ts';
import { RuleService } from './modules/rules/rule.service.ts';
import type { Services } from './services.ts';
import { EventService } from './modules/events/event.service.ts';
import { AlertService } from './modules/alerts/alert.service.ts';
import { WebhookService } from './modules/webhooks/webhook.service.ts';
import { WebhookSender } from './modules/webhooks/webhook.sender.ts';
import { WebhookDispatcher } from './jobs/webhook-dispatcher.ts';
import { type Clock, systemClock } from './shared/clock.ts';

/** How long an Idempotency-Key is remembered. */
const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

export interface Platform {
  services: Services;
  /** Gateways in memory and real-time enforcement, for the RADIUS server. */
  network: NetworkSide;
  /** Automation rules in memory: evaluation after commits, the firing queue, time-based triggers. */
  ruleRuntime: RuleRuntime;
  /** Present when CDR_DROP_DIR is set. */
  cdrDropFolder?: CdrDropFolder;
  database: OpenDatabase;
  runner: JobRunner;
  scheduler: Scheduler;
  /** Delivers the event outbox to webhook endpoints. */
  dispatcher: WebhookDispatcher;
  /** Sends queued e-mails and SMS. */
  notificationSender: NotificationSender;
  /** The SMSC link, when SMPP_HOST is set. */
  smpp?: SmppClient;
  log: Logger;
  /** Starts the background roles: job runner and lifecycle scheduler. */
  startWorkers(): Promise<void>;
  /** Stops the background roles (finishing in-flight work) and closes the database. */
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', '*.password', '*.secret', '*.token'], censor: '[redacted]' },
  });
}

function createProvisioning(config: Config): ProvisioningAdapter {
  const p = config.provisioning;
  return p.adapter === 'http'
    ? new HttpProvisioningAdapter({ url: p.url, secret: p.secret, timeoutMs: p.timeoutMs })
    : new SimulatedProvisioningAdapter({ delayMs: p.delayMs, failureRate: p.failureRate });
}

/** Composition root: config -> database -> migrations -> services. Nothing else builds services. */
export async function createPlatform(
  config: Config,
  options: { clock?: Clock; log?: Logger; provisioning?: ProvisioningAdapter } = {},
): Promise<Platform> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    onIdleError: (err) => log.warn({ err }, 'an idle database connection failed; the pool opens a new one'),
  });
  const applied = await migrateToLatest(database.db);
  if (applied.length) log.info({ applied, dialect: database.dialect }, 'migrations applied');
  const db = database.db;
  const provisioning = options.provisioning ?? createProvisioning(config);
  const accounts = new AccountService(db, config.defaultTimezone);
  const groups = new GroupService(db, accounts);
  const auth = new AuthService(db, accounts, clock, config.security);
  const jobs = new JobService(db, clock);
  const lifecycle = new LifecycleService(db, clock, provisioning, { ...config.lifecycle, testAllowanceBytes: config.usage.testAllowanceBytes, testAllowanceSms: config.usage.testAllowanceSms });
  const topUpProducts = new TopUpProductService(db, clock);
  const catalog = new CatalogService(db, clock, accounts, topUpProducts);
  const sims = new SimService(db, clock, accounts, groups, lifecycle, catalog);
  const imports = new SimImportService(db, clock, accounts, jobs);
  const bulk = new BulkService(db, sims, lifecycle, jobs);
  const gateways = new GatewayService(db, clock);
  const sessions = new SessionService(db, sims, groups);
  const usageReports = new UsageReportService(db, clock, accounts, groups, sims);
  const topUps = new TopUpService(db, clock, sims, topUpProducts);
  const events = new EventService(db, accounts);
  const alerts = new AlertService(db, clock, accounts);
  const webhooks = new WebhookService(db, clock, accounts, { allowPrivateTargets: config.webhooks.allowPrivateTargets });
  const policies = new PolicyService(db, clock, accounts, sims, groups, lifecycle);
  const terms = new PrepaidTermService(db, clock, sims, lifecycle, publishEvents);
  const orders = new OrderService(db, clock, topUps, terms, publishEvents);
  const invoices = new InvoiceService(db, clock);
  const network = await createNetworkSide({ db, dialect: database.dialect, run: database.run, clock, log, config, lifecycle, jobs, gateways, sims, accounts, topUps, policies, alerts });
  const { usage, cdr } = network;
  // NOTE: the engine rates with its own copy of the catalogue; each committed zone or plan change reloads it, one
  // reload after the other so that an older read never replaces a newer one.
  let catalogReload = Promise.resolve();
  const reloadCatalog = () => {
    catalogReload = catalogReload.then(() => usage.rating.reloadCatalog()).catch((err: unknown) => log.error({ err }, 'could not reload the rating catalogue'));
  };
  catalog.onCatalogChanged(reloadCatalog);
  // NOTE: region rules name zones: a catalogue change compiles the communication plans again.
  catalog.onCatalogChanged(() => network.reloadPolicyPlans());
  const bills = new BillService(db, clock, accounts, findPdfFont(config.billing.pdfFont));
  const trafficRules = new TrafficRuleService(db, clock, accounts);
  // Split-billing rules are part of what the engine rates with: a change reloads it like a catalogue change.
  trafficRules.onRulesChanged(reloadCatalog);
  const smtp = config.notifications.smtp ? new SmtpTransport(config.notifications.smtp) : undefined;
  const smppConfig = config.notifications.smpp;
  const smpp: SmppClient | undefined = smppConfig ? new SmppClient(smppConfig, (sms): Promise<void> => notifications.receive(sms), log.child({ role: 'smpp' })) : undefined;
  const smsUsage = new SmsUsageService(db, (planId, at) => usage.rating.planVersion(planId, at), lifecycle, log.child({ role: 'sms-usage' }));
  const notifications = new NotificationService(db, clock, sims, { email: smtp, sms: smpp }, log.child({ role: 'notifications' }), {
    usage: smsUsage,
    policyOf: (iccid, executor) => policies.policyInForce(iccid, executor),
    sender: smppConfig?.sourceAddr ?? null,
    alerts,
  });
  // Rules notify through the notification queue (a channel that is not configured records the message as failed).
  const ruleNotifier: Notifier = { available: true, email: (m) => notifications.email(m), sms: (m) => notifications.sms(m) };
  const notificationSender = new NotificationSender([() => notifications.deliverEmails(), () => notifications.deliverSms()], log, config.notifications.pollIntervalMs);
  notifications.onEnqueued(() => notificationSender.wake());
  smpp?.onBound(() => notificationSender.wake());
  const ruleOutlet: EventOutlet = { available: true, publish: publishEvents };
  const ruleActions = new RuleActions(db, sims, lifecycle, topUps, () => ruleOutlet, () => ruleNotifier);
  const rules = new RuleService(db, clock, accounts, groups, sims, catalog, ruleActions);
  const ruleRuntime = new RuleRuntime({ db, clock, log, actions: ruleActions, outlet: () => ruleOutlet, allSims: () => network.index.all(), simByIccid: (iccid) => network.index.getByIccid(iccid) });
  rules.onRulesChanged(() => void ruleRuntime.reload());
  accounts.onAccountDeleted(() => void ruleRuntime.reload());
  sims.onSimsUpdated((iccids) => ruleRuntime.simsUpdated(iccids));
  lifecycle.onStateChanged((e) => ruleRuntime.stateChanged(e));
  alerts.onRaised((raised) => raised.forEach((a) => ruleRuntime.alertRaised(a, a.raisedAt)));
  usage.setObserver(ruleRuntime);
  await ruleRuntime.start();
  const services: Services = {
    config,
    db,
    clock,
    accounts,
    auth,
    groups,
    sims,
    lifecycle,
    imports,
    bulk,
    jobs,
    provisioning,
    usage,
    cdr,
    gateways,
    sessions,
    usageReports,
    catalog,
    topUps,
    pools: new PoolService(accounts, usage.rating, clock),
    bills,
    trafficRules,
    events,
    alerts,
    webhooks,
    notifications,
    policies,
    topUpProducts,
    terms,
    orders,
    invoices,
    rules,
  };

  const runner = new JobRunner(
    db,
    clock,
    { sim_import: (ctx) => imports.runImport(ctx), bulk_change: (ctx) => bulk.runBulk(ctx), cdr_import: (ctx) => cdr.runImport(ctx) },
    log,
  );
  jobs.onEnqueued(() => runner.wake());
  const scheduler = new Scheduler(
    [
      { name: 'lifecycle transitions', run: () => lifecycle.runDueTransitions() },
      { name: 'session timeout', run: () => usage.expireSessions() },
      { name: 'quota resumption at a new cycle', run: () => network.resumeForNewCycle() },
      { name: 'monthly bill run', run: () => bills.runScheduledBills(config.billing.runDay) },
      { name: 'incomplete MO SMS parts expiry', run: () => notifications.pruneMoParts() },
      { name: 'prepaid terms: reminders, expiry, cancellation, resumption', run: () => terms.runDue() },
      { name: 'fulfilment of paid orders', run: () => orders.fulfilPaid() },
      { name: 'automation rules: offline, test period and expiry', run: () => ruleRuntime.runScheduled() },
      { name: 'idempotency key expiry', run: () => pruneKeys(db, new Date(clock.now().getTime() - IDEMPOTENCY_RETENTION_MS)) },
    ],
    log,
    config.lifecycle.schedulerIntervalMs,
  );
  const w = config.webhooks;
  const webhookSender = new WebhookSender(w.timeoutMs, w.concurrency);
  const dispatcher = new WebhookDispatcher(
    db,
    clock,
    webhookSender,
    alerts,
    notifications,
    {
      timeoutMs: w.timeoutMs,
      baseMs: w.retryBaseMs,
      maxMs: w.retryMaxMs,
      windowMs: w.retryWindowMs,
      pauseAfterFailures: w.pauseAfterFailures,
      pauseAfterMs: w.pauseAfterMs,
      batchSize: w.batchSize,
      concurrency: w.concurrency,
      pollIntervalMs: w.pollIntervalMs,
    },
    log,
  );
  webhooks.onReplayQueued(() => dispatcher.wake());
  const cdrDropFolder = config.usage.cdrDropDir
    ? new CdrDropFolder(config.usage.cdrDropDir, cdr, () => systemPrincipal(db, 'system:cdr-drop-folder'), log, config.usage.cdrPollIntervalMs)
    : undefined;
  return {
    services,
    network,
    ruleRuntime,
    database,
    runner,
    scheduler,
    dispatcher,
    notificationSender,
    smpp,
    log,
    cdrDropFolder,
    async startWorkers() {
      const interrupted = await lifecycle.failInterruptedChanges();
      if (interrupted > 0) log.warn({ interrupted }, 'state changes interrupted by the last stop were marked failed');
      await runner.start();
      scheduler.start();
      await cdrDropFolder?.start();
      if (w.enabled) dispatcher.start();
      notificationSender.start();
      smpp?.start();
    },
    async close() {
      await Promise.all([runner.stop(), scheduler.stop(), cdrDropFolder?.stop(), dispatcher.stop(), notificationSender.stop()]);
      webhookSender.close();
      await smpp?.stop();
      smtp?.close();
      await network.close();
      await ruleRuntime.stop();
      await database.close();
    },
  };
}
