import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { eventually, TestSmsc } from './support/smsc.ts';

const OPERATOR_KEY = 'mk_sms_cli_0123456789abcdefghijkl';

describe('meridian sms and notifications commands', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  const smsc = new TestSmsc({ systemId: 'cli', password: 'pw' });

  const cli = (args: string[]): Promise<CliRun> => runCli(args, { url: server.url, key: OPERATOR_KEY });

  beforeAll(async () => {
    const port = await smsc.start();
    harness = await startCliServer(OPERATOR_KEY, {
      RADIUS_ENABLED: 'false',
      SMPP_HOST: '127.0.0.1',
      SMPP_PORT: String(port),
      SMPP_SYSTEM_ID: 'cli',
      SMPP_PASSWORD: 'pw',
      SMPP_SOURCE_ADDR: '10690000',
      NOTIFY_POLL_INTERVAL_MS: '50',
    });
    ({ server } = harness);
  });
  afterAll(async () => {
    await harness?.close();
    await smsc.stop();
  });

  it('sends an SMS, lists it and shows it delivered', async () => {
    const sent = await cli(['sms', 'send', '--msisdn', '+8613800138000', '--text', '三号集装箱已开锁', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const id = JSON.parse(sent.stdout).id as string;
    expect(JSON.parse(sent.stdout)).toMatchObject({ msisdn: '8613800138000', encoding: 'ucs2', status: 'queued' });
    await eventually(() => smsc.submitted.length === 1);
    const shown = await eventually(async () => {
      const r = await cli(['sms', 'show', id]);
      return /Status\s+delivered/.test(r.stdout) ? r : undefined;
    }, 10_000);
    expect(shown.stdout).toMatch(/Text\s+三号集装箱已开锁/);
    const list = await cli(['sms', 'list', '--direction', 'mt', '--status', 'delivered']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/^ID\s+DIR\s+ICCID\s+MSISDN\s+STATUS/);
  });

  it('explains wrong usage and lists e-mail notifications', async () => {
    const both = await cli(['sms', 'send', '--iccid', '1', '--msisdn', '2', '--text', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give exactly one of --iccid or --msisdn');
    const unknown = await cli(['sms', 'send', '--iccid', '89860012345678901234', '--text', 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('sim_not_found');
    const mails = await cli(['notifications', 'list']);
    expect(mails.code, mails.stderr).toBe(0);
    expect(mails.stderr).toContain('no notifications found');
  });
});
