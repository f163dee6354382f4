/**
 * Webhook delivery benchmark: events in the outbox to a local HTTP receiver (its own process on 127.0.0.1), through
 * the real dispatcher (fan-out, claim, signed POST, attempt log), on PGlite and on PostgreSQL.
 * Peer, in the same run: the raw POST rate of the same client (same keep-alive pool, concurrency and body) to the
 * same receiver, with no database; the ratio is what the outbox costs.
 *
 *   npx tsx bench/webhook-delivery.ts          (BENCH_EVENTS=20000, BENCH_DB=pglite,postgres, WEBHOOK_CONCURRENCY and
 *                                              WEBHOOK_BATCH_SIZE as in production)
 *   flock /tmp/bench.lock npm run bench:webhooks
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { bootstrapOperator } from '../src/modules/accounts/bootstrap.ts';
import { publishEvents } from '../src/modules/events/event.repository.ts';
import type { NewEvent } from '../src/modules/events/event.ts';
import { WebhookSender } from '../src/modules/webhooks/webhook.sender.ts';
import { envelopeOf, signatureHeader } from '../src/modules/webhooks/webhook.ts';
import { createLogger, createPlatform } from '../src/platform.ts';
import { intEnv, recreateDatabase, dropDatabase } from './support/env.ts';
import { describeLoad, startLoadMeter, waitForQuietMachine } from './support/load.ts';
import { heading, int, line, machine, progress, ratio, verdict } from './support/report.ts';

const TARGET_PER_S = 2000;

async function startReceiver(): Promise<{ child: ChildProcess; url: string; received(): Promise<number> }> {
  const child = fork(fileURLToPath(import.meta.url), ['receiver'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    child,
    url: `http://127.0.0.1:${port}/hooks`,
    received: () =>
      new Promise((resolve) => {
        child.once('message', (m: { received: number }) => resolve(m.received));
        child.send({ count: true });
      }),
  };
}

const sampleEvent = (accountId: string, i: number): NewEvent => {
  const iccid = `89860012${String(i).padStart(11, '0')}`;
  return {
    type: 'sim.state_changed',
    accountId,
    subject: { kind: 'sim', id: iccid },
    data: { iccid, from: 'inventory', to: 'active', suspendReason: null, reason: 'rollout', source: 'api', actor: 'key:bench', jobId: null, changeRecordId: i },
  };
};

/** The peer: the same client POSTing the same kind of signed body to the same receiver, no database. */
async function rawPostRate(url: string, n: number, concurrency: number, timeoutMs: number): Promise<number> {
  const sender = new WebhookSender(timeoutMs, concurrency);
  const body = JSON.stringify(
    envelopeOf({ ...sampleEvent('acc_bench', 1), id: 'evt_bench', sequence: 1, occurredAt: new Date() }),
  );
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const r = await sender.send(url, { 'content-type': 'application/cloudevents+json; charset=utf-8', 'meridian-signature': signatureHeader('whsec_x', Math.floor(Date.now() / 1000), body) }, body);
        if (!r.ok) failed++;
      }
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  sender.close();
  if (failed) throw new Error(`${failed} raw POSTs failed`);
  return rate;
}

async function deliveryRate(dialect: 'pglite' | 'postgres', url: string, events: number): Promise<{ rate: number; load: string }> {
  const databaseUrl = dialect === 'postgres' ? await recreateDatabase('meridian_bench_webhooks') : undefined;
  // The receiver listens on 127.0.0.1, a private target the operator has to allow.
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', DATA_DIR: 'memory://', WEBHOOK_ALLOW_PRIVATE: 'true', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
  const platform = await createPlatform(config, { log: createLogger('silent') });
  try {
    const { db, auth } = platform.services;
    const boot = await bootstrapOperator(db, auth, { ...config.bootstrap, adminPassword: 'correct horse battery staple', timezone: config.defaultTimezone });
    const accountId = boot.operatorAccountId;
    const principal = { accountId, accountPath: `/${accountId}/`, accountKind: 'operator' as const, role: 'operator_admin' as const, actor: 'key:bench', source: 'api' as const };
    await platform.services.webhooks.createEndpoint(principal, { url, eventTypes: ['sim.*'] });
    progress(`${dialect}: writing ${int(events)} events to the outbox`);
    for (let i = 0; i < events; i += 1000) {
      await db.transaction().execute((trx) => publishEvents(trx, Array.from({ length: Math.min(1000, events - i) }, (_, j) => sampleEvent(accountId, i + j)), new Date()));
    }
    await waitForQuietMachine(60);
    progress(`${dialect}: delivering`);
    const meter = startLoadMeter();
    const t0 = performance.now();
    const pass = await platform.dispatcher.settle();
    const seconds = (performance.now() - t0) / 1000;
    const load = describeLoad(meter.stop(), 'benchmark (dispatcher and database)');
    if (pass.delivered !== events) throw new Error(`delivered ${pass.delivered} of ${events}`);
    return { rate: events / seconds, load };
  } finally {
    await platform.close();
    if (dialect === 'postgres') await dropDatabase('meridian_bench_webhooks');
  }
}

async function main(): Promise<void> {
  const events = intEnv('BENCH_EVENTS', 20_000);
  const dialects = (process.env.BENCH_DB ?? 'pglite,postgres').split(',').map((d) => d.trim()) as ('pglite' | 'postgres')[];
  const config = loadConfig({ ...process.env, DATA_DIR: 'memory://' });
  const receiver = await startReceiver();
  try {
    line(`Webhook delivery: ${int(events)} events, one endpoint, concurrency ${config.webhooks.concurrency}, batch ${config.webhooks.batchSize}`);
    line(`Machine: ${machine()}`);
    await rawPostRate(receiver.url, 2000, config.webhooks.concurrency, config.webhooks.timeoutMs); // warm-up
    for (const dialect of dialects) {
      heading(dialect);
      const peer = await rawPostRate(receiver.url, events, config.webhooks.concurrency, config.webhooks.timeoutMs);
      const { rate, load } = await deliveryRate(dialect, receiver.url, events);
      const peerAfter = await rawPostRate(receiver.url, events, config.webhooks.concurrency, config.webhooks.timeoutMs);
      line(`deliveries through the outbox: ${int(rate)}/s (target ${int(TARGET_PER_S)}/s: ${verdict(rate >= TARGET_PER_S)})`);
      line(`peer, raw signed POSTs of the same client: ${int(peer)}/s before, ${int(peerAfter)}/s after`);
      line(`outbox overhead: raw POST rate is ${ratio((peer + peerAfter) / 2, rate)} the delivery rate`);
      line(load);
    }
    line(`receiver counted ${int(await receiver.received())} requests`);
  } finally {
    receiver.child.kill();
  }
}

// ---------- the receiver process, or the benchmark ----------

if (process.argv[2] === 'receiver') {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { count?: boolean }) => {
    if (m.count) process.send!({ received });
  });
} else {
  await main();
}
