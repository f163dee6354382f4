import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A Prometheus registry with the process metrics; every part of the server registers its own metrics in it. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meridian_' });
  return registry;
}

/** HTTP request metrics in a registry. */
export function createMetrics(registry: Registry = createRegistry()): { registry: Registry; httpRequests: Counter; httpDuration: Histogram } {
  const httpRequests = new Counter({
    name: 'meridian_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'meridian_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration };
}

export function registerHttpMetrics(app: FastifyInstance, m: ReturnType<typeof createMetrics>): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    m.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    m.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}

/** Group commits of the usage engine (how long each took, how many items it held) and the sessions it holds in memory. */
export function registerUsageMetrics(
  registry: Registry,
  usage: { onCommit(listener: (size: number, ms: number) => void): void; heldSessions(): { open: number; stopped: number } },
): void {
  const registers = [registry];
  const seconds = new Histogram({
    name: 'meridian_usage_commit_seconds',
    help: 'time to write one group commit of the usage engine (accounting packets and CDR rows wait for it)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const items = new Counter({ name: 'meridian_usage_commit_items_total', help: 'items (accounting packets, CDR chunks) written by group commits', registers });
  usage.onCommit((size, ms) => {
    seconds.observe(ms / 1000);
    items.inc(size);
  });
  new Gauge({
    name: 'meridian_usage_sessions_held',
    help: 'RADIUS sessions the usage engine holds in memory: open ones, and stopped ones kept for late retransmissions',
    labelNames: ['state'],
    registers,
    collect() {
      const held = usage.heldSessions();
      this.set({ state: 'open' }, held.open);
      this.set({ state: 'stopped' }, held.stopped);
    },
  });
}
