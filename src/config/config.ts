import { z } from 'zod';
import { isTimeZone } from '../shared/time-zone.ts';

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const timezone = z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Shanghai' });


/** Every environment variable Meridian reads, with its default. The README's configuration table mirrors this. */
const envSchema = z.object({
  PORT: intFrom(8080).pipe(z.number().max(65535)),
  HOST: z.string().default('0.0.0.0'),
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEFAULT_TIMEZONE: timezone.default('Asia/Shanghai'),
  MERIDIAN_OPERATOR_NAME: z.string().min(1).default('Operator'),
  MERIDIAN_ADMIN_EMAIL: z.email().default('admin@meridian.local'),
  MERIDIAN_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  MERIDIAN_API_KEY: z
    .string()
    .regex(/^mk_[A-Za-z0-9_-]{24,}$/, 'must look like mk_ followed by at least 24 URL-safe characters')
    .optional(),
  RATE_LIMIT_PER_SECOND: intFrom(200, 1),
  RATE_LIMIT_BURST: intFrom(400, 1),
  SESSION_TTL_HOURS: intFrom(12, 1),
  LOGIN_MAX_FAILURES: intFrom(5, 1),
  LOGIN_LOCK_MINUTES: intFrom(15, 1),
  TEST_PERIOD_DAYS: intFrom(90, 1),
  SILENT_PERIOD_DAYS: intFrom(90, 1),
  DEACTIVATED_RETIRE_DAYS: intFrom(365, 1),
  SCHEDULER_INTERVAL_MS: intFrom(5000, 50),
  SHUTDOWN_TIMEOUT_MS: intFrom(15000, 100),
  GC_HEAP_GROWTH_PERCENT: intFrom(100, 0).pipe(z.number().max(400)),
  RADIUS_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  RADIUS_HOST: z.string().default('0.0.0.0'),
  RADIUS_AUTH_PORT: intFrom(1812).pipe(z.number().max(65535)),
  RADIUS_ACCT_PORT: intFrom(1813).pipe(z.number().max(65535)),
  RADIUS_INTERIM_INTERVAL_SECONDS: intFrom(600, 1),
  RADIUS_SESSION_TIMEOUT_INTERIMS: intFrom(3, 1),
  RADIUS_COMMIT_MAX_BATCH: intFrom(2000, 1),
  RADIUS_COMMIT_MAX_QUEUE: intFrom(50000, 1),
  RADIUS_COMMIT_LANES: intFrom(2, 1),
  RADIUS_COMMIT_INTERVAL_MS: intFrom(10, 0).pipe(z.number().max(1000)),
  DISCONNECT_TIMEOUT_MS: intFrom(1000, 10),
  DISCONNECT_RETRIES: intFrom(3, 0),
  TEST_ALLOWANCE_BYTES: intFrom(30 * 1024 * 1024, 0),
  TEST_ALLOWANCE_SMS: intFrom(0, 0),
  CDR_DROP_DIR: z.string().optional(),
  CDR_POLL_INTERVAL_MS: intFrom(5000, 100),
  PROVISIONING_ADAPTER: z.enum(['simulated', 'http']).default('simulated'),
  PROVISIONING_SIM_DELAY_MS: intFrom(0),
  PROVISIONING_SIM_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  PROVISIONING_HTTP_URL: z.url().optional(),
  PROVISIONING_HTTP_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PROVISIONING_HTTP_TIMEOUT_MS: intFrom(5000, 1),
  BILL_PDF_FONT: z.string().optional(),
  BILL_RUN_DAY: intFrom(2, 0).pipe(z.number().max(28)),
  WEBHOOK_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  WEBHOOK_TIMEOUT_MS: intFrom(10_000, 10),
  WEBHOOK_RETRY_BASE_MS: intFrom(30_000, 1),
  WEBHOOK_RETRY_MAX_MS: intFrom(3_600_000, 1000),
  WEBHOOK_RETRY_WINDOW_HOURS: intFrom(24, 1),
  WEBHOOK_PAUSE_AFTER_FAILURES: intFrom(20, 1),
  WEBHOOK_PAUSE_AFTER_MINUTES: intFrom(60, 0),
  WEBHOOK_CONCURRENCY: intFrom(64, 1),
  WEBHOOK_BATCH_SIZE: intFrom(500, 1),
  WEBHOOK_POLL_INTERVAL_MS: intFrom(500, 10),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^/]+/, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587').optional(),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SMTP_SECURE: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().min(3).default('Meridian <noreply@meridian.local>'),
  SMTP_TIMEOUT_MS: intFrom(10000, 100),
  SMPP_HOST: z.string().min(1).optional(),
  SMPP_PORT: intFrom(2775, 1).pipe(z.number().max(65535)),
  SMPP_SYSTEM_ID: z.string().max(15, 'must be at most 15 characters (SMPP 3.4)').optional(),
  SMPP_PASSWORD: z.string().max(8, 'must be at most 8 characters (SMPP 3.4)').default(''),
  SMPP_SYSTEM_TYPE: z.string().max(12, 'must be at most 12 characters (SMPP 3.4)').default(''),
  SMPP_SOURCE_ADDR: z.string().max(20, 'must be at most 20 characters').optional(),
  SMPP_SOURCE_TON: intFrom(1).pipe(z.number().max(6)),
  SMPP_SOURCE_NPI: intFrom(1).pipe(z.number().max(18)),
  SMPP_DEST_TON: intFrom(1).pipe(z.number().max(6)),
  SMPP_DEST_NPI: intFrom(1).pipe(z.number().max(18)),
  SMPP_ENQUIRE_LINK_SECONDS: intFrom(30, 1),
  SMPP_RECONNECT_MIN_MS: intFrom(1000, 10),
  SMPP_RECONNECT_MAX_MS: intFrom(60000, 10),
  SMPP_RESPONSE_TIMEOUT_MS: intFrom(10000, 10),
  NOTIFY_POLL_INTERVAL_MS: intFrom(1000, 10),
});

export interface Config {
  readonly http: { readonly port: number; readonly host: string; readonly trustProxy: boolean };
  readonly database: { readonly url?: string; readonly dataDir: string };
  readonly logLevel: string;
  readonly defaultTimezone: string;
  readonly bootstrap: {
    readonly operatorName: string;
    readonly adminEmail: string;
    readonly adminPassword?: string;
    readonly apiKey?: string;
  };
  readonly security: {
    readonly rateLimitPerSecond: number;
    readonly rateLimitBurst: number;
    readonly sessionTtlHours: number;
    readonly loginMaxFailures: number;
    readonly loginLockMinutes: number;
  };
  readonly lifecycle: {
    readonly testPeriodDays: number;
    readonly silentPeriodDays: number;
    readonly deactivatedRetireDays: number;
    readonly schedulerIntervalMs: number;
  };
  readonly shutdownTimeoutMs: number;
  /** How far V8 lets the heap grow past its live size before the next major collection (%); 0: V8 decides. */
  readonly gcHeapGrowthPercent: number;
  readonly radius: {
    readonly enabled: boolean;
    readonly host: string;
    readonly authPort: number;
    readonly acctPort: number;
    /** A session silent for this long is closed (its Stop was lost): interim interval × RADIUS_SESSION_TIMEOUT_INTERIMS. */
    readonly sessionTimeoutSeconds: number;
    readonly commitMaxBatch: number;
    readonly commitMaxQueue: number;
    /** Group commits in flight at once on PostgreSQL (PGlite has one connection: always 1). */
    readonly commitLanes: number;
    /** Under load, a commit lane starts a transaction at most this often (ms). */
    readonly commitIntervalMs: number;
    readonly disconnectTimeoutMs: number;
    readonly disconnectRetries: number;
  };
  readonly usage: {
    /** Test-period allowance given to a SIM entering `test` unless the request names one. */
    readonly testAllowanceBytes: number;
    /** SMS a SIM entering `test` may use before it becomes active; null: SMS do not end the test period. */
    readonly testAllowanceSms: number | null;
    readonly cdrDropDir?: string;
    readonly cdrPollIntervalMs: number;
  };
  readonly billing: {
    /** A TrueType/OpenType font (.ttf, .otf, .ttc) with Chinese glyphs for PDF bills; found among common paths when unset. */
    readonly pdfFont?: string;
    /** Day of the month (operator's time zone) from which the scheduler bills the month before; 0: never. */
    readonly runDay: number;
  };
  readonly webhooks: {
    /** Whether the dispatcher runs in this process. */
    readonly enabled: boolean;
    readonly timeoutMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly retryWindowMs: number;
    readonly pauseAfterFailures: number;
    readonly pauseAfterMs: number;
    readonly concurrency: number;
    readonly batchSize: number;
    readonly pollIntervalMs: number;
    /** Whether endpoint URLs may point at loopback, link-local and private addresses. */
    readonly allowPrivateTargets: boolean;
  };
  readonly provisioning:
    | { readonly adapter: 'simulated'; readonly delayMs: number; readonly failureRate: number }
    | { readonly adapter: 'http'; readonly url: string; readonly secret: string; readonly timeoutMs: number };
  readonly notifications: {
    /** Absent when neither SMTP_URL nor SMTP_HOST is set: e-mails are then recorded as failed. */
    readonly smtp?: {
      readonly url?: string;
      readonly host?: string;
      readonly port?: number;
      readonly secure?: boolean;
      readonly user?: string;
      readonly password?: string;
      readonly from: string;
      readonly timeoutMs: number;
    };
    /** Absent when SMPP_HOST is not set: SMS are then recorded as failed. */
    readonly smpp?: {
      readonly host: string;
      readonly port: number;
      readonly systemId: string;
      readonly password: string;
      readonly systemType: string;
      readonly sourceAddr: string;
      readonly sourceTon: number;
      readonly sourceNpi: number;
      readonly destTon: number;
      readonly destNpi: number;
      readonly enquireLinkMs: number;
      readonly reconnectMinMs: number;
      readonly reconnectMaxMs: number;
      readonly responseTimeoutMs: number;
    };
    readonly pollIntervalMs: number;
  };
}

export class ConfigError extends Error {}

/** Parses the environment once; reports every invalid variable in one message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.PROVISIONING_ADAPTER === 'http' && (!e.PROVISIONING_HTTP_URL || !e.PROVISIONING_HTTP_SECRET)) {
    throw new ConfigError(
      'Invalid configuration:\n  PROVISIONING_HTTP_URL and PROVISIONING_HTTP_SECRET are required when PROVISIONING_ADAPTER=http',
    );
  }
  if (e.SMPP_HOST && (!e.SMPP_SYSTEM_ID || !e.SMPP_SOURCE_ADDR)) {
    throw new ConfigError('Invalid configuration:\n  SMPP_SYSTEM_ID and SMPP_SOURCE_ADDR are required when SMPP_HOST is set');
  }
  const smtpConfigured = e.SMTP_URL !== undefined || e.SMTP_HOST !== undefined;
  return deepFreeze<Config>({
    http: { port: e.PORT, host: e.HOST, trustProxy: e.TRUST_PROXY },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    logLevel: e.LOG_LEVEL,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    bootstrap: {
      operatorName: e.MERIDIAN_OPERATOR_NAME,
      adminEmail: e.MERIDIAN_ADMIN_EMAIL,
      adminPassword: e.MERIDIAN_ADMIN_PASSWORD,
      apiKey: e.MERIDIAN_API_KEY,
    },
    security: {
      rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
      rateLimitBurst: e.RATE_LIMIT_BURST,
      sessionTtlHours: e.SESSION_TTL_HOURS,
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginLockMinutes: e.LOGIN_LOCK_MINUTES,
    },
    lifecycle: {
      testPeriodDays: e.TEST_PERIOD_DAYS,
      silentPeriodDays: e.SILENT_PERIOD_DAYS,
      deactivatedRetireDays: e.DEACTIVATED_RETIRE_DAYS,
      schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    gcHeapGrowthPercent: e.GC_HEAP_GROWTH_PERCENT,
    radius: {
      enabled: e.RADIUS_ENABLED,
      host: e.RADIUS_HOST,
      authPort: e.RADIUS_AUTH_PORT,
      acctPort: e.RADIUS_ACCT_PORT,
      sessionTimeoutSeconds: e.RADIUS_INTERIM_INTERVAL_SECONDS * e.RADIUS_SESSION_TIMEOUT_INTERIMS,
      commitMaxBatch: e.RADIUS_COMMIT_MAX_BATCH,
      commitMaxQueue: e.RADIUS_COMMIT_MAX_QUEUE,
      commitLanes: e.RADIUS_COMMIT_LANES,
      commitIntervalMs: e.RADIUS_COMMIT_INTERVAL_MS,
      disconnectTimeoutMs: e.DISCONNECT_TIMEOUT_MS,
      disconnectRetries: e.DISCONNECT_RETRIES,
    },
    usage: { testAllowanceBytes: e.TEST_ALLOWANCE_BYTES, testAllowanceSms: e.TEST_ALLOWANCE_SMS || null, cdrDropDir: e.CDR_DROP_DIR, cdrPollIntervalMs: e.CDR_POLL_INTERVAL_MS },
    billing: { pdfFont: e.BILL_PDF_FONT, runDay: e.BILL_RUN_DAY },
    webhooks: {
      enabled: e.WEBHOOK_ENABLED,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      retryWindowMs: e.WEBHOOK_RETRY_WINDOW_HOURS * 3_600_000,
      pauseAfterFailures: e.WEBHOOK_PAUSE_AFTER_FAILURES,
      pauseAfterMs: e.WEBHOOK_PAUSE_AFTER_MINUTES * 60_000,
      concurrency: e.WEBHOOK_CONCURRENCY,
      batchSize: e.WEBHOOK_BATCH_SIZE,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE,
    },
    provisioning:
      e.PROVISIONING_ADAPTER === 'http'
        ? {
            adapter: 'http',
            url: e.PROVISIONING_HTTP_URL ?? '',
            secret: e.PROVISIONING_HTTP_SECRET ?? '',
            timeoutMs: e.PROVISIONING_HTTP_TIMEOUT_MS,
          }
        : { adapter: 'simulated', delayMs: e.PROVISIONING_SIM_DELAY_MS, failureRate: e.PROVISIONING_SIM_FAILURE_RATE },
    notifications: {
      smtp: smtpConfigured
        ? {
            url: e.SMTP_URL,
            host: e.SMTP_HOST,
            port: e.SMTP_PORT,
            secure: e.SMTP_SECURE,
            user: e.SMTP_USER,
            password: e.SMTP_PASSWORD,
            from: e.SMTP_FROM,
            timeoutMs: e.SMTP_TIMEOUT_MS,
          }
        : undefined,
      smpp: e.SMPP_HOST
        ? {
            host: e.SMPP_HOST,
            port: e.SMPP_PORT,
            systemId: e.SMPP_SYSTEM_ID ?? '',
            password: e.SMPP_PASSWORD,
            systemType: e.SMPP_SYSTEM_TYPE,
            sourceAddr: e.SMPP_SOURCE_ADDR ?? '',
            sourceTon: e.SMPP_SOURCE_TON,
            sourceNpi: e.SMPP_SOURCE_NPI,
            destTon: e.SMPP_DEST_TON,
            destNpi: e.SMPP_DEST_NPI,
            enquireLinkMs: e.SMPP_ENQUIRE_LINK_SECONDS * 1000,
            reconnectMinMs: e.SMPP_RECONNECT_MIN_MS,
            reconnectMaxMs: Math.max(e.SMPP_RECONNECT_MAX_MS, e.SMPP_RECONNECT_MIN_MS),
            responseTimeoutMs: e.SMPP_RESPONSE_TIMEOUT_MS,
          }
        : undefined,
      pollIntervalMs: e.NOTIFY_POLL_INTERVAL_MS,
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
