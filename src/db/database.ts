import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface AccountTable {
  id: string;
  parent_id: string | null;
  /** Materialised path of ids from the root, e.g. `/acc_a/acc_b/`; prefix queries find descendants. */
  path: string;
  kind: 'operator' | 'reseller' | 'enterprise';
  name: string;
  timezone: string;
  created_at: CreatedAt;
}

export interface GroupTable {
  id: string;
  account_id: string;
  name: string;
  description: string | null;
  created_at: CreatedAt;
  /** The communication plan of the group's SIMs that have none of their own. */
  comm_plan_id: Generated<string | null>;
}

export interface UserTable {
  id: string;
  account_id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
}

export interface ApiKeyTable {
  id: string;
  account_id: string;
  name: string;
  role: string;
  /** First characters of the secret, shown in lists so a key can be recognised. */
  prefix: string;
  secret_hash: string;
  created_by: string | null;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface LoginSessionTable {
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface SimTable {
  iccid: string;
  account_id: string;
  group_id: string | null;
  state: string;
  suspend_reason: string | null;
  msisdn: string | null;
  eid: string | null;
  imei: string | null;
  batch: string | null;
  labels: string[];
  custom_fields: Json<Record<string, string>>;
  device_name: string | null;
  /** When the automatic transition out of the current state is due (test/silent end, retirement). */
  state_due_at: Timestamp | null;
  activated_at: Timestamp | null;
  connection_state: string | null;
  last_seen_at: Timestamp | null;
  /** Local date (YYYY-MM-DD, account time zone) that usage_day_bytes counts. */
  usage_day: string | null;
  usage_day_bytes: Generated<number>;
  /** Billing month (YYYY-MM, account time zone) that usage_cycle_bytes counts. */
  usage_cycle: string | null;
  usage_cycle_bytes: Generated<number>;
  test_allowance_bytes: number | null;
  test_used_bytes: Generated<number>;
  /** SMS a SIM in test may send or receive before it becomes active; null: no SMS count. */
  test_allowance_sms: Generated<number | null>;
  test_used_sms: Generated<number>;
  /** The rate plan (套餐) the SIM is rated with; null: its usage is counted, not rated. */
  plan_id: string | null;
  /** When the SIM was put on its plan in its account (a plan change or a move); null: before this was recorded. */
  plan_joined_at: Generated<Timestamp | null>;
  state_changed_at: Timestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** Communication plan assigned to the SIM itself (wins over its group's). */
  comm_plan_id: Generated<string | null>;
  /** IMEI lock set on the SIM itself (off, first, tac); null: the communication plan's. */
  imei_lock: Generated<string | null>;
  imei_lock_max_devices: Generated<number | null>;
  /** Country (ISO 3166-1 alpha-2) the SIM was bound to by its first session after the test period. */
  bound_country: Generated<string | null>;
}

export interface SimProfileTable {
  imsi: string;
  iccid: string;
  position: number;
  active: boolean;
}

export interface ChangeRecordTable {
  id: Generated<number>;
  account_id: string;
  iccid: string;
  field: string;
  old_value: string | null;
  new_value: string | null;
  source: string;
  actor: string | null;
  reason: string | null;
  status: string;
  error: string | null;
  job_id: string | null;
  created_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface JobTable {
  id: string;
  account_id: string;
  kind: string;
  status: string;
  dry_run: boolean;
  total: number;
  done: Generated<number>;
  failed: Generated<number>;
  params: Json<Record<string, unknown>>;
  summary: Json<Record<string, unknown>>;
  created_by: string | null;
  error: string | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface JobResultTable {
  job_id: string;
  seq: number;
  subject: string | null;
  ok: boolean;
  code: string | null;
  message: string | null;
}

export interface JobInputTable {
  job_id: string;
  content: string;
}

export interface IdempotencyKeyTable {
  principal: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response_body: string | null;
  created_at: Timestamp;
}

export interface GatewayTable {
  id: string;
  account_id: string;
  name: string;
  /** IP address or CIDR the gateway's packets come from. */
  address: string;
  /** RADIUS shared secret: kept in clear because every packet's authenticator is computed with it. */
  secret: string;
  coa_port: number;
  /** The RADIUS attribute the gateway reports the destination class in (`attr:N`, `vsa:VENDOR:TYPE`); null: none. */
  destination_class_attribute: Generated<string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RadiusSessionTable {
  id: string;
  account_id: string;
  iccid: string;
  gateway_id: string;
  acct_session_id: string;
  multi_session_id: string | null;
  imsi: string | null;
  status: string;
  started_at: Timestamp;
  last_seen_at: Timestamp;
  stopped_at: Timestamp | null;
  stop_cause: string | null;
  bytes_in: number;
  bytes_out: number;
  session_seconds: number | null;
  apn: string | null;
  framed_ip: string | null;
  rat: string | null;
  mcc_mnc: string | null;
  cell: Json<Record<string, unknown> | null>;
  imei: string | null;
  nas_ip: string | null;
  charging_id: string | null;
}

export interface UsageRecordTable {
  id: Generated<number>;
  account_id: string;
  iccid: string;
  session_id: string | null;
  source: string;
  record_key: string | null;
  start_at: Timestamp;
  end_at: Timestamp;
  bytes_in: number;
  bytes_out: number;
  mcc_mnc: string | null;
  apn: string | null;
  created_at: Timestamp;
  /** Plan the record was rated with (null: not rated), the charge, the zone and the rated pieces. */
  plan_id: string | null;
  charge_micros: Generated<number>;
  zone_id: string | null;
  pieces: Json<{ kind: string; bytes: number; amountMicros: number; ref: string | null }[] | null>;
  /** Split billing: the record's traffic class and the account that pays for it (null: the SIM's account). */
  traffic_class: string | null;
  payer_account_id: string | null;
}

export interface ZoneTable {
  id: string;
  account_id: string;
  name: string;
  countries: string[];
  networks: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One version of a rate plan; `definition` holds the plan's terms (see modules/rating/rate-plan.ts). */
export interface RatePlanTable {
  id: string;
  version: number;
  account_id: string;
  name: string;
  effective_from: Timestamp;
  definition: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

/** A SIM's balances in its current cycle, as the usage engine last committed them. */
export interface SimBalanceTable {
  iccid: string;
  account_id: string;
  cycle: string;
  plan_id: string;
  balance: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

/** The shared data of a pooled plan for one account and cycle. */
export interface PoolBalanceTable {
  account_id: string;
  plan_id: string;
  cycle: string;
  size_bytes: number;
  remaining_bytes: number;
  updated_at: Timestamp;
}

/** A top-up (加油包) of one SIM. */
export interface TopUpTable {
  id: string;
  account_id: string;
  iccid: string;
  bytes: number;
  expires_at: Timestamp;
  created_by: string | null;
  created_at: Timestamp;
  /** A priced top-up: its product, price and currency; `order_id` when an order paid for it. */
  product_id: Generated<string | null>;
  price_micros: Generated<number | null>;
  currency: Generated<string | null>;
  order_id: Generated<string | null>;
}

/** One SMS of a SIM (MO, or MT accepted by the SMSC), rated at once. */
export interface SmsRecordTable {
  id: Generated<number>;
  /** `mt:<sms id>`, or for MO the message's reference from the device (a retransmission has the same key). */
  dedupe_key: string;
  sms_id: string;
  account_id: string;
  iccid: string;
  direction: 'mo' | 'mt';
  /** Segments: each is one billed message. */
  parts: number;
  plan_id: string | null;
  cycle: string;
  test_parts: number;
  included_parts: number;
  charged_parts: number;
  charge_micros: number;
  at: Timestamp;
}

export interface BillTable {
  id: string;
  account_id: string;
  kind: 'retail' | 'wholesale';
  /** Billing month `YYYY-MM` in the account's time zone. */
  period: string;
  currency: string;
  period_start: Timestamp;
  period_end: Timestamp;
  /** 1 for the first run of the period; each re-run adds one. */
  revision: number;
  total_micros: number;
  total_minor: number;
  usage_records: number;
  issued_at: Timestamp;
  issued_by: string | null;
}

export interface BillLineTable {
  bill_id: string;
  line_no: number;
  kind: string;
  plan_id: string | null;
  plan_name: string | null;
  zone_id: string | null;
  quantity: number;
  bytes: number;
  unit_price_micros: number | null;
  amount_micros: number;
  amount_minor: number;
  traffic_class: string | null;
  product_id: Generated<string | null>;
  order_id: Generated<string | null>;
}

export interface TrafficRuleTable {
  id: string;
  account_id: string;
  priority: number;
  apn: string | null;
  zone_id: string | null;
  /** Destination class the gateway reports (CDR destination, RADIUS attribute named by the gateway); null: any. */
  destination_class: Generated<string | null>;
  traffic_class: string;
  payer_account_id: string;
  created_by: string | null;
  created_at: Timestamp;
}

/** A priced top-up (加油包) product sold by an operator or reseller. */
export interface TopUpProductTable {
  id: string;
  account_id: string;
  name: string;
  bytes: number;
  /** 1: to the end of the cycle it is bought in; N: N months counting that one. */
  valid_months: number;
  price_micros: number;
  currency: string;
  active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The prepaid term of a SIM: when it expires, when an unrenewed SIM is cancelled, which reminders went out. */
export interface PrepaidTermTable {
  iccid: string;
  account_id: string;
  /** Last month of the term, YYYY-MM (account time zone). */
  last_month: string;
  expiry_date: string;
  expires_at: Timestamp;
  cancel_at: Timestamp;
  /** in_term, expired (suspended, still renewable) or cancelled. */
  status: string;
  /** Days-before-expiry thresholds already reminded for this expiry. */
  reminded_days: Generated<number[]>;
  next_reminder_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface CartItemTable {
  id: string;
  account_id: string;
  kind: string;
  item: Json<Record<string, unknown>>;
  iccids: string[];
  created_by: string | null;
  created_at: Timestamp;
}

export interface OrderTable {
  id: string;
  account_id: string;
  status: string;
  currency: string;
  total_micros: number;
  amount_minor: number;
  invoice_id: string | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  paid_at: Timestamp | null;
  fulfilled_at: Timestamp | null;
}

export interface OrderLineTable {
  order_id: string;
  line_no: number;
  kind: string;
  iccid: string | null;
  plan_id: string | null;
  product_id: string | null;
  months: number | null;
  quantity: number;
  unit_price_micros: number;
  amount_micros: number;
  description: string;
  details: Json<Record<string, unknown>>;
  status: string;
  result: string | null;
  fulfilled_at: Timestamp | null;
}

export interface OrderEventTable {
  id: Generated<number>;
  order_id: string;
  from_status: string | null;
  to_status: string;
  actor: string | null;
  note: string | null;
  at: Timestamp;
}

export interface PaymentTable {
  id: string;
  order_id: string;
  amount_micros: number;
  method: string;
  reference: string;
  recorded_by: string | null;
  paid_at: Timestamp;
  recorded_at: Timestamp;
}

export interface InvoiceRequestTable {
  id: string;
  account_id: string;
  status: string;
  type: string;
  title: string;
  tax_id: string;
  address: string | null;
  phone: string | null;
  bank_name: string | null;
  bank_account: string | null;
  email: string | null;
  order_ids: string[];
  amount_minor: number;
  currency: string;
  number: string | null;
  issued_on: string | null;
  reject_reason: string | null;
  requested_by: string | null;
  requested_at: Timestamp;
  decided_by: string | null;
  decided_at: Timestamp | null;
}

export interface UsageHourlyTable {
  iccid: string;
  hour: Timestamp;
  account_id: string;
  bytes_in: number;
  bytes_out: number;
  records: number;
}

/** The event outbox: every event in commit order of `sequence`; waiting in `event_dispatch_queue` until fanned out. */
export interface EventTable {
  sequence: Generated<number>;
  id: string;
  type: string;
  account_id: string;
  subject_kind: string;
  subject_id: string;
  data: Json<Record<string, unknown>>;
  occurred_at: Timestamp;
}

/** Events not yet fanned out to webhook deliveries, by sequence. */
export interface EventDispatchQueueTable {
  sequence: number;
}

export interface AlertTable {
  id: string;
  account_id: string;
  type: string;
  severity: string;
  subject_kind: string;
  subject_id: string;
  message: string;
  data: Json<Record<string, unknown>>;
  raised_at: Timestamp;
  state: Generated<string>;
  handled_by: string | null;
  handled_at: Timestamp | null;
  remark: string | null;
}

export interface WebhookEndpointTable {
  id: string;
  account_id: string;
  url: string;
  description: string | null;
  /** Event types or patterns (`sim.*`, `*`) the endpoint receives. */
  event_types: string[];
  secret: string;
  state: Generated<string>;
  paused_reason: string | null;
  paused_at: Timestamp | null;
  consecutive_failures: Generated<number>;
  /** Time of the first failure of the current run of failures; null after a success. */
  failing_since: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  endpoint_id: string;
  /** The endpoint's account (tenancy scope of the delivery log). */
  account_id: string;
  event_sequence: number;
  event_id: string;
  event_type: string;
  replay: Generated<boolean>;
  state: Generated<string>;
  attempts: Generated<number>;
  /** When the next attempt is due; while an attempt runs, the end of its lease. */
  next_attempt_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface WebhookAttemptTable {
  delivery_id: number;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  ok: boolean;
}

/** A communication plan: services, APNs, whitelists, IMEI lock, region restriction, data limits. */
export interface CommPlanTable {
  id: string;
  account_id: string;
  name: string;
  data_enabled: boolean;
  voice_enabled: boolean;
  sms_enabled: boolean;
  apns: string[];
  destinations: string[];
  sms_whitelist: string[];
  imei_lock: string;
  imei_lock_max_devices: number;
  region_mode: string;
  region_countries: string[];
  region_zones: string[];
  region_operators: string[];
  daily_data_limit_bytes: number | null;
  abnormal_daily_bytes: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A device (IMEI) a SIM was accepted in under its IMEI lock. */
export interface SimDeviceTable {
  iccid: string;
  imei: string;
  account_id: string;
  first_seen_at: Timestamp;
}

export interface ImeiBlacklistTable {
  imei: string;
  reason: string | null;
  created_by: string | null;
  created_at: Timestamp;
}

/** A country (ISO alpha-2) or network (MCC-MNC) where no SIM may be used. */
export interface HighRiskAreaTable {
  code: string;
  kind: string;
  reason: string | null;
  created_by: string | null;
  created_at: Timestamp;
}

export interface PolicyViolationTable {
  id: Generated<number>;
  account_id: string;
  iccid: string;
  kind: string;
  message: string;
  data: Json<Record<string, unknown>>;
  /** One violation per key: SIM, kind and local day (and the device or network where it matters). */
  dedupe_key: string;
  occurred_at: Timestamp;
}

export interface EmailMessageTable {
  id: string;
  account_id: string;
  recipients: Json<string[]>;
  template: string;
  lang: 'zh' | 'en';
  subject: string;
  body_text: string;
  body_html: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  sent_at: Timestamp | null;
}

export interface SmsMessageTable {
  id: string;
  /** Null for an MO message from an MSISDN that matches no SIM. */
  account_id: string | null;
  direction: 'mo' | 'mt';
  iccid: string | null;
  /** The other party: destination of an MT message, source of an MO message. */
  msisdn: string;
  text: string;
  encoding: 'gsm7' | 'ucs2';
  segments: number;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  claimed_until: Timestamp | null;
  last_error: string | null;
  /** SMSC message id of the first segment. */
  message_id: string | null;
  error_code: string | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  submitted_at: Timestamp | null;
  done_at: Timestamp | null;
}

export interface SmsSegmentTable {
  sms_id: string;
  seq: number;
  smsc_message_id: string;
  status: string;
  updated_at: Timestamp;
}

export interface SmsMoPartTable {
  msisdn: string;
  ref: number;
  total: number;
  seq: number;
  text: string;
  encoding: string;
  received_at: Timestamp;
}

export interface RuleTable {
  id: string;
  account_id: string;
  name: string;
  enabled: boolean;
  /** Scope, trigger, conditions, actions, repeat and cool-down (see modules/rules/rule.ts). */
  definition: Json<Record<string, unknown>>;
  template_id: string | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RuleFiringTable {
  id: Generated<number>;
  rule_id: string;
  /** The rule's account (firings are seen by it and the accounts above it). */
  account_id: string;
  subject_kind: string;
  subject_id: string;
  subject_account_id: string;
  iccid: string | null;
  period: string;
  stage: string;
  inputs: Json<Record<string, unknown>>;
  /** `pending` until every action has a result, then `done`. */
  status: string;
  actions: Json<Record<string, unknown>[]>;
  fired_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface Database {
  accounts: AccountTable;
  groups: GroupTable;
  users: UserTable;
  api_keys: ApiKeyTable;
  login_sessions: LoginSessionTable;
  sims: SimTable;
  sim_profiles: SimProfileTable;
  change_records: ChangeRecordTable;
  jobs: JobTable;
  job_results: JobResultTable;
  job_inputs: JobInputTable;
  idempotency_keys: IdempotencyKeyTable;
  gateways: GatewayTable;
  radius_sessions: RadiusSessionTable;
  usage_records: UsageRecordTable;
  usage_hourly: UsageHourlyTable;
  zones: ZoneTable;
  rate_plans: RatePlanTable;
  sim_balances: SimBalanceTable;
  pool_balances: PoolBalanceTable;
  top_ups: TopUpTable;
  bills: BillTable;
  bill_lines: BillLineTable;
  traffic_rules: TrafficRuleTable;
  events: EventTable;
  event_dispatch_queue: EventDispatchQueueTable;
  alerts: AlertTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  email_messages: EmailMessageTable;
  sms_messages: SmsMessageTable;
  sms_records: SmsRecordTable;
  sms_segments: SmsSegmentTable;
  sms_mo_parts: SmsMoPartTable;
  comm_plans: CommPlanTable;
  sim_devices: SimDeviceTable;
  imei_blacklist: ImeiBlacklistTable;
  high_risk_areas: HighRiskAreaTable;
  policy_violations: PolicyViolationTable;
  top_up_products: TopUpProductTable;
  prepaid_terms: PrepaidTermTable;
  cart_items: CartItemTable;
  orders: OrderTable;
  order_lines: OrderLineTable;
  order_events: OrderEventTable;
  payments: PaymentTable;
  invoice_requests: InvoiceRequestTable;
  rules: RuleTable;
  rule_firings: RuleFiringTable;
}

export type Db = Kysely<Database>;
/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Runs one SQL statement with positional parameters ($1, $2 …) and returns its rows. On PostgreSQL the statement
 * is prepared under its name once per connection, so a statement run thousands of times a second is not parsed and
 * planned each time.
 */
export type StatementRunner = (statement: { name: string; text: string; values: unknown[] }) => Promise<Record<string, unknown>[]>;
