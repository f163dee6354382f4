import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_cli_test_0123456789abcdefghijklmn';

describe('meridian command line against a running server', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  let dir: string;

  const cli = (args: string[], options: { key?: string | null; url?: string; input?: string } = {}): Promise<CliRun> =>
    runCli(args, { url: options.url ?? server.url, key: options.key === undefined ? OPERATOR_KEY : options.key, input: options.input });
  const json = (r: CliRun) => JSON.parse(r.stdout);
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    harness = await startCliServer(OPERATOR_KEY, { RADIUS_AUTH_PORT: '0', RADIUS_ACCT_PORT: '0', RADIUS_HOST: '127.0.0.1' });
    ({ server, dir } = harness);
  });
  afterAll(() => harness?.close());

  it('prints help for every command group, and exits 2 on wrong usage', async () => {
    const groups = ['sims', 'bulk', 'jobs', 'accounts', 'groups', 'users', 'api-keys'];
    const helps = await Promise.all([cli(['--help']), ...groups.map((g) => cli([g, '--help'])), cli(['sims', 'import', '--help'])]);
    for (const h of helps) expect(h.code).toBe(0);
    expect(helps[0]?.stdout).toContain('--api-key');
    for (const [i, g] of groups.entries()) expect(helps[i + 1]!.stdout).toContain(`Usage: meridian ${g}`);
    expect(helps[1]?.stdout).toMatch(/import .*<file>/);
    expect(helps.at(-1)!.stdout).toContain('--dry-run');

    const [unknownOption, badState, noSelection] = await Promise.all([
      cli(['sims', 'list', '--bogus']),
      cli(['sims', 'set-state', iccidFor(1), 'flying']),
      cli(['bulk', 'state', 'suspended']),
    ]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");
    expect(badState.code).toBe(2);
    expect(noSelection.code).toBe(2);
    expect(noSelection.stderr).toContain('--iccids-file');
  });

  it('imports a CSV: a bad row is reported with its line and code, the exit code is 3, and the valid rows land', async () => {
    const bad = `${iccidFor(4).slice(0, -1)}0`;
    const csv = await file('sims.csv', `${simCsv(1, 3, () => 'pilot')}${bad},${imsiFor(4)},,B1,\n`);
    const run = await cli(['sims', 'import', csv]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('4 rows, 3 created, 0 unchanged, 1 failed');
    const failedLine = run.stdout.split('\n').find((l) => l.includes(bad));
    expect(failedLine).toMatch(/^\s*5\s+\d{20}\s+invalid_iccid_check_digit\s+/);
    expect(run.stderr).toContain('completed 4/4 rows');

    const list = await cli(['sims', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(json(list).items.map((s: { iccid: string }) => s.iccid)).toEqual([iccidFor(1), iccidFor(2), iccidFor(3)]);
  });

  it('a dry run reports what would happen and writes nothing', async () => {
    const csv = await file('dry.csv', simCsv(50, 2));
    const run = await cli(['sims', 'import', csv, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const { job, failed } = json(run);
    expect(job).toMatchObject({ dryRun: true, status: 'completed', failed: 0, summary: { created: 2 } });
    expect(failed).toEqual([]);
    const show = await cli(['sims', 'show', iccidFor(50)]);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('error: sim_not_found:');
  });

  it('lists, shows and changes the state of a SIM; an illegal transition names the allowed targets', async () => {
    const iccid = iccidFor(1);
    const [list, show] = await Promise.all([cli(['sims', 'list', '--label', 'pilot']), cli(['sims', 'show', iccid])]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ICCID\s+STATE\s+IMSI/);
    expect(list.stdout).toContain(iccidFor(3));
    expect(show.stdout).toMatch(/State\s+inventory/);

    const toTest = await cli(['sims', 'set-state', iccid, 'test', '--period-days', '30', '--reason', 'field trial']);
    expect(toTest.code).toBe(0);
    expect(toTest.stdout).toContain(`SIM ${iccid} is now test`);

    const illegal = await cli(['sims', 'set-state', iccid, 'retired']);
    expect(illegal.code).toBe(1);
    expect(illegal.stdout).toBe('');
    expect(illegal.stderr).toContain('error: illegal_transition: cannot go from test to retired; allowed from test: active, suspended, deactivated');

    const [shown, changes] = await Promise.all([cli(['sims', 'show', iccid, '--json']), cli(['sims', 'changes', iccid, '--json'])]);
    expect(json(shown)).toMatchObject({ iccid, state: 'test' });
    expect(json(changes).items[0]).toMatchObject({ field: 'state', oldValue: 'inventory', newValue: 'test', reason: 'field trial' });
  });

  it('changes the state of the SIMs listed in a file as a bulk job and reports the unknown ones', async () => {
    const unknown = iccidFor(99);
    const ids = await file('ids.txt', `iccid\n${iccidFor(2)}\n${iccidFor(3)}\n\n# not ours:\n${unknown}\n`);
    const run = await cli(['bulk', 'state', 'active', '--iccids-file', ids, '--reason', 'go live']);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('3 SIMs, 2 changed, 0 unchanged, 1 failed');
    expect(run.stdout).toMatch(new RegExp(`${unknown}\\s+sim_not_found`));

    const active = await cli(['sims', 'list', '--state', 'active', '--json']);
    expect(json(active).items.map((s: { iccid: string }) => s.iccid)).toEqual([iccidFor(2), iccidFor(3)]);

    const queued = await cli(['bulk', 'state', 'suspended', '--state-filter', 'active', '--dry-run', '--no-wait', '--json']);
    expect(queued.code).toBe(0);
    const jobId = json(queued).id as string;
    const shown = await cli(['jobs', 'show', jobId, '--wait', '--json']);
    expect(shown.code).toBe(0);
    expect(json(shown)).toMatchObject({ id: jobId, status: 'completed', dryRun: true, total: 2, failed: 0 });
    const results = await cli(['jobs', 'results', jobId, '--json']);
    expect(json(results).items.map((r: { code: string }) => r.code)).toEqual(['would_change', 'would_change']);
    expect(json(await cli(['sims', 'show', iccidFor(2), '--json'])).state).toBe('active');
  });

  it('creates an API key, prints its secret alone on stdout, and the new key works with its own role', async () => {
    const created = await cli(['api-keys', 'create', '--name', 'auditor', '--role', 'read_only']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^mk_[A-Za-z0-9_-]{24,}$/);
    expect(created.stderr).toContain('shown only once');

    const [me, list, denied] = await Promise.all([
      cli(['whoami', '--json'], { key: secret }),
      cli(['sims', 'list', '--json'], { key: secret }),
      cli(['sims', 'set-state', iccidFor(2), 'suspended'], { key: secret }),
    ]);
    expect(json(me)).toMatchObject({ role: 'read_only', accountKind: 'operator' });
    expect(json(list).items).toHaveLength(3);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: forbidden: /);

    const keys = json(await cli(['api-keys', 'list', '--json'])).items as { id: string; name: string }[];
    const id = keys.find((k) => k.name === 'auditor')!.id;
    expect((await cli(['api-keys', 'revoke', id])).code).toBe(0);
    const revoked = await cli(['whoami'], { key: secret });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('error: unauthorized:');
  });

  it('manages accounts and groups, and updates a SIM with a group given by name', async () => {
    const account = json(await cli(['accounts', 'create', '--kind', 'enterprise', '--name', 'Acme', '--timezone', 'Europe/Berlin', '--json']));
    expect(account).toMatchObject({ kind: 'enterprise', name: 'Acme', timezone: 'Europe/Berlin' });
    const accounts = await cli(['accounts', 'list']);
    expect(accounts.stdout).toMatch(new RegExp(`${account.id}\\s+enterprise\\s+Acme`));

    expect((await cli(['groups', 'create', '--name', 'fleet-a'])).code).toBe(0);
    const updated = await cli(['sims', 'update', iccidFor(3), '--group', 'fleet-a', '--add-label', 'east', '--field', 'site=SZ-02', '--json']);
    expect(updated.code).toBe(0);
    expect(json(updated)).toMatchObject({ labels: ['pilot', 'east'], customFields: { site: 'SZ-02' } });
    const inGroup = await cli(['sims', 'list', '--group', 'fleet-a']);
    expect(inGroup.stdout).toMatch(new RegExp(`${iccidFor(3)}.*fleet-a`));

    const lookup = await cli(['sims', 'lookup', '--by', 'imsi', imsiFor(3), imsiFor(77), '--json']);
    expect(json(lookup).items).toMatchObject([
      { value: imsiFor(3), found: true, iccid: iccidFor(3) },
      { value: imsiFor(77), found: false },
    ]);

    const deleted = await cli(['accounts', 'delete', account.id]);
    expect(deleted.code).toBe(0);
  });

  it('imports a CDR file of usage records; a second import of the same file adds nothing', async () => {
    const cdr = await file(
      'usage.csv',
      `record_id,iccid,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn\nc1,${iccidFor(1)},2026-01-15T08:00:00Z,2026-01-15T08:30:00Z,100,200,46000,iot\nc2,${iccidFor(1)},yesterday,2026-01-15T08:30:00Z,1,1,46000,iot\n`,
    );
    const first = await cli(['usage', 'import-cdr', cdr]);
    expect(first.code).toBe(3);
    expect(first.stdout).toContain('invalid_time');
    const again = await cli(['usage', 'import-cdr', cdr, '--json']);
    expect(json(again).job.summary).toMatchObject({ recorded: 0, duplicates: 1, failed: 1 });
  });

  it('says clearly when the server cannot be reached or no API key is given', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const [refused, noKey] = await Promise.all([cli(['sims', 'list'], { url }), cli(['sims', 'list'], { key: null })]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot reach the Meridian server at ${url}: connection refused`);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('error: unauthorized:');
    expect(noKey.stderr).toContain('MERIDIAN_API_KEY');
  });
});
