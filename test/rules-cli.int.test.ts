import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { iccidFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_rules_cli_0123456789abcdefghijkl';

describe('meridian rules commands', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  let dir: string;
  const cli = (args: string[], input = ''): Promise<CliRun> => runCli(args, { url: server.url, key: OPERATOR_KEY, input });

  beforeAll(async () => {
    harness = await startCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false' });
    ({ server, dir } = harness);
    const imported = await cli(['sims', 'import', '-'], simCsv(1, 2));
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterAll(() => harness?.close());

  it('creates rules from a file and from a template, lists them, backtests one and shows the firings log', async () => {
    const file = join(dir, 'rule.json');
    await writeFile(file, JSON.stringify({ name: 'daily anomaly', scope: { kind: 'sim', iccid: iccidFor(1) }, trigger: { type: 'usage', period: 'day', megabytes: [150] }, actions: [{ type: 'suspend' }] }));
    const created = await cli(['rules', 'create', file, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const fromTemplate = await cli(['rules', 'create', '--template', 'usage-staged-70-90-100', '--scope', `sim:${iccidFor(2)}`]);
    expect(fromTemplate.code, fromTemplate.stderr).toBe(0);
    expect(fromTemplate.stdout).toContain('usage 70%/90%/100% per cycle');
    const list = await cli(['rules', 'list']);
    expect(list.stdout).toContain('daily anomaly');
    expect(list.stdout).toContain(`sim ${iccidFor(2)}`);
    const backtest = await cli(['rules', 'backtest', id, '--days', '3']);
    expect(backtest.code, backtest.stderr).toBe(0);
    expect(backtest.stderr).toContain('no firings');
    const firings = await cli(['rules', 'firings', '--rule', id]);
    expect(firings.code, firings.stderr).toBe(0);
    expect(firings.stderr).toContain('no firings found');
    const bad = await cli(['rules', 'create', '--template', 'offline-2-minutes', '--scope', 'planet:x']);
    expect(bad.code).toBe(2);
    const templates = await cli(['rules', 'templates']);
    expect(templates.stdout).toContain('expiry-30-15-days');
  });
});
