import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { luhnCheckDigit } from '../src/shared/luhn.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { iccidFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_policies_cli_0123456789abcdefghij';

describe('meridian comm-plans, policy, imei-blacklist and high-risk-areas commands', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { url: server.url, key: OPERATOR_KEY });
  const json = (r: CliRun) => JSON.parse(r.stdout) as Record<string, unknown>;

  beforeAll(async () => {
    harness = await startCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false' });
    server = harness.server;
    const res = await fetch(`${server.url}/api/v1/sims/imports`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'text/csv' }, body: simCsv(1, 1) });
    expect(res.status).toBe(202);
    await server.platform.runner.settle();
  });
  afterAll(() => harness?.close());

  it('creates, updates, assigns and shows a communication plan', async () => {
    const created = await cli(['comm-plans', 'create', '--name', 'meters', '--imei-lock', 'tac', '--max-devices', '3', '--region', 'allowed', '--country', 'CN,HK', '--destination', '10.8.0.0/16', '--daily-limit', '50MB', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const plan = json(created);
    expect(plan).toMatchObject({ name: 'meters', imeiLock: { mode: 'tac', maxDevices: 3 }, region: { mode: 'allowed', countries: ['CN', 'HK'] }, dailyDataLimitBytes: 50 * 1024 * 1024, services: { data: true, voice: false, sms: false } });
    const id = plan.id as string;
    const updated = await cli(['comm-plans', 'update', id, '--sms', 'on', '--sms-to', '8613800000000']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('Services on       data, sms');
    const assigned = await cli(['comm-plans', 'assign', id, '--sim', iccidFor(1)]);
    expect(assigned.code, assigned.stderr).toBe(0);
    expect(assigned.stdout).toContain(`meters (${id}, from the sim)`);
    const lock = await cli(['policy', 'imei-lock', iccidFor(1), 'first', '--json']);
    expect(json(lock)).toMatchObject({ ownImeiLock: { mode: 'first' }, imeiLock: { mode: 'first' } });
    expect((await cli(['policy', 'imei-reset', iccidFor(1), '--reason', 'new device'])).code).toBe(0);
    const list = await cli(['comm-plans', 'list']);
    expect(list.stdout).toContain('tac (up to 3 devices)');
    const bad = await cli(['comm-plans', 'create', '--name', 'x', '--destination', 'not a host']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_comm_plan');
  });

  it('manages the IMEI blacklist and high-risk areas', async () => {
    const imei = `35000000000777${luhnCheckDigit('35000000000777')}`;
    expect((await cli(['imei-blacklist', 'add', imei, '--reason', 'stolen'])).code).toBe(0);
    expect((await cli(['imei-blacklist', 'list'])).stdout).toContain(imei);
    expect((await cli(['high-risk-areas', 'add', 'KP'])).code).toBe(0);
    expect((await cli(['high-risk-areas', 'list'])).stdout).toContain('country');
    expect((await cli(['high-risk-areas', 'remove', 'KP'])).code).toBe(0);
    expect((await cli(['imei-blacklist', 'remove', imei])).code).toBe(0);
    expect((await cli(['imei-blacklist', 'list'])).stderr).toContain('no imei-blacklist found');
  });
});
