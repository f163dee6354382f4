import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataSize } from '../src/cli/catalog-commands.ts';
import { useCliServer } from './support/cli.ts';
import { iccidFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_catalog_cli_0123456789abcdefghij';

describe('meridian zones, plans and catalog commands', () => {
  const harness = useCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false' });
  const { cli, json } = harness;

  it('reads data sizes in bytes or with a unit', () => {
    expect(dataSize('100MB')).toBe(100 * 1024 * 1024);
    expect(dataSize('1.5gb')).toBe(1.5 * 1024 ** 3);
    expect(dataSize('2048')).toBe(2048);
    expect(() => dataSize('0.5B')).toThrow('a size such as 100MB');
    expect(() => dataSize('lots')).toThrow();
  });

  it('loads the sample catalogue once', async () => {
    const first = await cli(['catalog', 'load-sample']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('zones: 7 created, 0 already there; plans: 70 created, 0 already there; top-up products: 4 created, 0 already there\n');
    const second = await cli(['catalog', 'load-sample', '--json']);
    expect(json(second)).toEqual({ zonesCreated: 0, zonesKept: 7, plansCreated: 0, plansKept: 70, topUpProductsCreated: 0, topUpProductsKept: 4 });
    const zones = await cli(['zones', 'list']);
    expect(zones.stdout).toContain('Zone 6 (Belt and Road)');
  });

  it('adds, changes and removes a zone', async () => {
    const add = await cli(['zones', 'add', 'EU', '--name', 'Europe', '--country', 'DE,FR', '--network', '23415']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/Countries\s+DE, FR/);
    const update = await cli(['zones', 'update', 'EU', '--country', 'DE', '--country', 'IT', '--json']);
    expect(json(update)).toEqual({ id: 'EU', name: 'Europe', countries: ['DE', 'IT'], networks: ['23415'] });
    const bad = await cli(['zones', 'add', 'XX', '--name', 'Bad', '--country', 'Germany']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_zone: zone XX: "Germany" is not an ISO 3166-1 alpha-2 country code');
    expect((await cli(['zones', 'update', 'EU'])).code).toBe(2);
    expect((await cli(['zones', 'add', 'TMP', '--name', 'Tmp', '--country', 'JP'])).code).toBe(0);
    const remove = await cli(['zones', 'remove', 'TMP']);
    expect(remove.stdout).toBe('zone TMP removed\n');
    const inUse = await cli(['zones', 'remove', 'Z1']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('zone_in_use: zone Z1 is used by 10 rate plan(s): Z1-100MB');
  });

  it('creates a plan from options or a JSON file, shows it and changes it from a date', async () => {
    const create = await cli(['plans', 'create', 'EU-100MB', '--name', 'Europe 100 MB', '--fee', '19.15', '--data', '100MB', '--zone', 'EU', '--overage-per-mb', '0.05', '--overage-cap', '50']);
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toMatch(/Monthly fee\s+19\.15 CNY/);
    expect(create.stdout).toMatch(/Overage\s+0\.05 CNY\/MB, cap 50\.00 CNY/);
    expect(create.stdout).toMatch(/Cut-off\s+3\.0 GiB/);

    const file = join(harness.dir, 'pool.json');
    await writeFile(file, JSON.stringify({ name: 'Europe pool', monthlyFee: '30', includedBytes: 1024 ** 3, coverageZoneIds: ['EU', 'Z6'] }));
    const fromFile = await cli(['plans', 'create', 'EU-POOL', '--file', file, '--sharing', 'pooled', '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(json(fromFile).inForce).toMatchObject({ name: 'Europe pool', monthlyFee: '30.00', sharing: 'pooled', coverageZoneIds: ['EU', 'Z6'] });

    const missing = await cli(['plans', 'create', 'X', '--name', 'X']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--fee is required');
    const badMoney = await cli(['plans', 'create', 'X', '--name', 'X', '--fee', '1.1234567', '--data', '1MB', '--zone', 'EU']);
    expect(badMoney.code).toBe(2);
    expect(badMoney.stderr).toContain('at most 6 decimal places');

    const change = await cli(['plans', 'change', 'EU-100MB', '--effective-from', '2099-01-01T00:00:00+08:00', '--fee', '17.5']);
    expect(change.code, change.stderr).toBe(0);
    expect(change.stdout).toBe('plan EU-100MB: version 2 in force from 2098-12-31T16:00:00Z\n');
    const show = await cli(['plans', 'show', 'EU-100MB']);
    expect(show.stdout).toMatch(/In force\s+version 1 since/);
    expect(show.stdout).toContain('2  from 2098-12-31T16:00:00Z  17.50 CNY');
    expect((await cli(['plans', 'change', 'EU-100MB', '--fee', '1'])).stderr).toContain('--effective-from is required');

    const list = await cli(['plans', 'list', '--zone', 'EU']);
    expect(list.stdout).toContain('EU-100MB');
    expect(list.stdout).toContain('EU-POOL');
    expect(list.stdout).not.toContain('Z1-100MB');
  });

  it('puts a SIM on a plan and lists the SIMs of a plan', async () => {
    const csv = join(harness.dir, 'sims.csv');
    await writeFile(csv, simCsv(1, 2));
    expect((await cli(['sims', 'import', csv])).code).toBe(0);
    const set = await cli(['sims', 'set-plan', iccidFor(1), 'Z1-100MB', '--reason', 'launch']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(`SIM ${iccidFor(1)} is on plan Z1-100MB\n`);
    const list = await cli(['sims', 'list', '--plan', 'Z1-100MB', '--json']);
    expect(json(list).items.map((s: { iccid: string }) => s.iccid)).toEqual([iccidFor(1)]);
    expect((await cli(['sims', 'show', iccidFor(1)])).stdout).toMatch(/Plan\s+Z1-100MB/);
    expect((await cli(['sims', 'set-plan', iccidFor(1)])).code).toBe(2);
    const unknown = await cli(['sims', 'set-plan', iccidFor(2), 'NOPE']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('plan_not_found');
    const off = await cli(['sims', 'set-plan', iccidFor(1), '--none']);
    expect(off.stdout).toBe(`SIM ${iccidFor(1)} has no plan\n`);
    const bulk = await cli(['bulk', 'update', '--batch', 'B1', '--set-plan', 'Z2-1GB', '--reason', 'price list']);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(json(await cli(['sims', 'list', '--plan', 'Z2-1GB', '--json'])).items).toHaveLength(2);
    expect((await cli(['bulk', 'update', '--batch', 'B1', '--set-plan', 'Z2-1GB', '--clear-plan'])).code).toBe(2);
    expect((await cli(['bulk', 'update', '--batch', 'B1', '--clear-plan'])).code).toBe(0);
    const changes = await cli(['sims', 'changes', iccidFor(1), '--field', 'plan', '--json']);
    expect(json(changes).items.map((c: { newValue: string | null }) => c.newValue)).toEqual([null, 'Z2-1GB', null, 'Z1-100MB']);
  });
});
