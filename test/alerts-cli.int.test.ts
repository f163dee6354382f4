import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { WebhookReceiver } from './support/receiver.ts';

const OPERATOR_KEY = 'mk_alerts_cli_0123456789abcdefghijkl';

describe('meridian alerts, events and webhooks commands', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  const ids: string[] = [];

  const cli = (args: string[]): Promise<CliRun> => runCli(args, { url: server.url, key: OPERATOR_KEY });

  beforeAll(async () => {
    harness = await startCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false', WEBHOOK_POLL_INTERVAL_MS: '50' });
    ({ server } = harness);
    const { alerts, db } = server.platform.services;
    const root = await db.selectFrom('accounts').select('id').where('parent_id', 'is', null).executeTakeFirstOrThrow();
    const raised = await alerts.raise(
      db,
      [
        { accountId: root.id, type: 'sim_offline', severity: 'warning', subject: { kind: 'sim', id: '89860012345678901234' }, message: 'SIM offline for 24 h' },
        { accountId: root.id, type: 'data_threshold', severity: 'critical', subject: { kind: 'sim', id: '89860012345678901235' }, message: 'SIM used 95% of its data' },
        { accountId: root.id, type: 'data_threshold', severity: 'info', subject: { kind: 'pool', id: 'pool_1' }, message: 'pool at 80%' },
      ],
      new Date(),
    );
    ids.push(...raised.map((a) => a.id));
  });
  afterAll(() => harness?.close());

  it('lists unhandled alerts with filters and shows one', async () => {
    const list = await cli(['alerts', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('SIM offline for 24 h');
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+RAISED\s+SEVERITY\s+TYPE\s+SUBJECT\s+STATE\s+MESSAGE$/);
    const critical = await cli(['alerts', 'list', '--severity', 'critical', '--json']);
    expect(JSON.parse(critical.stdout).items.map((a: { id: string }) => a.id)).toEqual([ids[1]]);
    const bySubject = await cli(['alerts', 'list', '--subject', 'pool:pool_1', '--json']);
    expect(JSON.parse(bySubject.stdout).items.map((a: { id: string }) => a.id)).toEqual([ids[2]]);
    const show = await cli(['alerts', 'show', ids[0]!]);
    expect(show.stdout).toMatch(/Message\s+SIM offline for 24 h/);
    const bad = await cli(['alerts', 'list', '--subject', 'nonsense']);
    expect(bad.code).toBe(2);
  });

  it('handles one alert, then every alert matching a filter', async () => {
    const one = await cli(['alerts', 'handle', ids[0]!, '--remark', 'device replaced']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(`alert ${ids[0]} handled\n`);
    const again = await cli(['alerts', 'handle', ids[0]!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('alert_already_handled');
    const many = await cli(['alerts', 'handle', '--all-matching', '--type', 'data_threshold', '--remark', 'plans raised']);
    expect(many.stdout).toBe('2 alerts handled\n');
    const handled = await cli(['alerts', 'list', '--state', 'handled', '--json']);
    expect(JSON.parse(handled.stdout).items.map((a: { remark: string }) => a.remark).sort()).toEqual(['device replaced', 'plans raised', 'plans raised']);
    const usage = await cli(['alerts', 'handle']);
    expect(usage.code).toBe(2);
  });

  it('lists the events of the alerts', async () => {
    const events = await cli(['events', 'list', '--type', 'alert.*', '--oldest-first', '--json']);
    expect(events.code, events.stderr).toBe(0);
    expect(JSON.parse(events.stdout).items.map((e: { type: string }) => e.type)).toEqual([
      'alert.raised',
      'alert.raised',
      'alert.raised',
      'alert.handled',
      'alert.handled',
      'alert.handled',
    ]);
  });

  it('registers a webhook endpoint that receives events, shows its deliveries, replays, pauses and removes it', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const add = await cli(['webhooks', 'add', receiver.url, '--event', 'alert.*', '--description', 'ERP']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/Secret\s+whsec_/);
      expect(add.stderr).toContain('not shown again');
      const id = /ID\s+(whk_\w+)/.exec(add.stdout)![1]!;
      const list = await cli(['webhooks', 'list']);
      expect(list.stdout).toContain(id);
      const { alerts, db } = server.platform.services;
      const root = await db.selectFrom('accounts').select('id').where('parent_id', 'is', null).executeTakeFirstOrThrow();
      await alerts.raise(db, [{ accountId: root.id, type: 'cli_case', severity: 'info', subject: { kind: 'account', id: root.id }, message: 'to the hook' }], new Date());
      for (let i = 0; i < 100 && receiver.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(receiver.bodies().map((b) => b.type)).toEqual(['alert.raised']);
      const eventId = receiver.bodies()[0]!.id as string;

      const deliveries = await cli(['webhooks', 'deliveries', id, '--json']);
      const [delivery] = JSON.parse(deliveries.stdout).items;
      expect(delivery).toMatchObject({ eventId, state: 'delivered', attempts: 1 });
      const one = await cli(['webhooks', 'deliveries', id, '--delivery', delivery.id]);
      expect(one.stdout).toMatch(/ATTEMPT\s+STARTED\s+MS\s+STATUS\s+ERROR/);
      const replay = await cli(['webhooks', 'replay', id, '--event-id', eventId]);
      expect(replay.stdout).toBe('1 deliveries queued\n');
      for (let i = 0; i < 100 && receiver.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(receiver.bodies().map((b) => b.id)).toEqual([eventId, eventId]);

      const pause = await cli(['webhooks', 'update', id, '--pause']);
      expect(pause.stdout).toMatch(/State\s+paused/);
      expect((await cli(['webhooks', 'update', id])).code).toBe(2);
      const rotated = await cli(['webhooks', 'rotate-secret', id]);
      expect(rotated.stdout).toMatch(/Secret\s+whsec_/);
      const removed = await cli(['webhooks', 'remove', id]);
      expect(removed.stdout).toBe(`webhook endpoint ${id} removed\n`);
    } finally {
      await receiver.stop();
    }
  });
});
