import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { type CliRun, runCli, startCliServer } from './support/cli.ts';
import { iccidFor, simCsv } from './support/iccid.ts';

const OPERATOR_KEY = 'mk_orders_cli_0123456789abcdefghijk';

describe('meridian renew, orders, top-up-products and invoices commands', () => {
  let harness: Awaited<ReturnType<typeof startCliServer>>;
  let server: RunningServer;
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { url: server.url, key: OPERATOR_KEY });
  const json = (r: CliRun) => JSON.parse(r.stdout);
  const api = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };

  beforeAll(async () => {
    harness = await startCliServer(OPERATOR_KEY, { RADIUS_ENABLED: 'false' });
    ({ server } = harness);
    await api('POST', '/zones', { id: 'CN', name: 'China', countries: ['CN'] });
    await api('POST', '/plans', { id: 'cn-12m', name: 'China 12 months', monthlyFee: '19.15', includedBytes: 1048576, coverageZoneIds: ['CN'], overage: null, termMonths: 12 });
    await api('POST', '/sims/imports', simCsv(1, 1), 'text/csv');
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${server.url}/api/v1/sims/${iccidFor(1)}`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await api('PATCH', `/sims/${iccidFor(1)}`, { planId: 'cn-12m' });
    await api('POST', `/sims/${iccidFor(1)}/state`, { state: 'active' });
  });
  afterAll(() => harness?.close());

  it('renews a SIM, lists and pays the order, shows the new term and requests an invoice', async () => {
    const before = await cli(['sims', 'term', iccidFor(1), '--json']);
    expect(before.code, before.stderr).toBe(0);
    const expiry = json(before).expiryDate as string;

    const renew = await cli(['renew', iccidFor(1), '--months', '12']);
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(/Status\s+pending_payment/);
    expect(renew.stdout).toMatch(/Total\s+229\.80 CNY/);
    const [order] = json(await cli(['orders', 'list', '--status', 'pending_payment', '--json'])).items as { id: string }[];

    const pay = await cli(['orders', 'pay', order!.id, '--reference', 'BANK-42', '--amount', '229.80']);
    expect(pay.code, pay.stderr).toBe(0);
    expect(pay.stdout).toMatch(/Status\s+fulfilled/);
    expect(pay.stdout).toContain('pending_payment → paid');
    const after = json(await cli(['sims', 'term', iccidFor(1), '--json']));
    expect(Number(after.expiryDate.slice(0, 4))).toBe(Number(expiry.slice(0, 4)) + 1);

    const again = await cli(['orders', 'pay', order!.id, '--reference', 'BANK-43']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('order_already_paid');
    expect((await cli(['renew', iccidFor(1)])).code).toBe(2);

    const invoice = await cli(['invoices', 'request', order!.id, '--title', '测试信息科技有限公司', '--tax-id', '913101000000000000', '--email', 'finance@example.com']);
    expect(invoice.code, invoice.stderr).toBe(0);
    expect(invoice.stdout).toMatch(/Amount\s+229\.80 CNY/);
    const list = await cli(['invoices', 'list']);
    expect(list.stdout).toContain('requested');
  });

  it('creates and lists top-up products and puts a purchase in the cart', async () => {
    const create = await cli(['top-up-products', 'create', 'cn-500mb', '--name', '加油包 500 MB', '--data', '500MB', '--price', '15']);
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toBe('top-up product cn-500mb: 500.0 MiB for 15.00 CNY\n');
    expect((await cli(['top-up-products', 'list'])).stdout).toContain('cn-500mb');
    const add = await cli(['buy-top-up', iccidFor(1), 'cn-500mb', '--quantity', '2', '--cart']);
    expect(add.code, add.stderr).toBe(0);
    expect((await cli(['cart', 'show'])).stdout).toContain('total: 30.00 CNY');
    const checkout = await cli(['cart', 'checkout', '--json']);
    expect(json(checkout)).toMatchObject({ status: 'pending_payment', total: '30.00' });
    expect((await cli(['cart', 'show'])).stderr).toContain('the cart is empty');
  });
});
