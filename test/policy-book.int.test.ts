import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.ts';
import { PolicyBook } from '../src/engine/policy-book.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/** Counts the statements run through the database it is plugged into. */
function statementCounter(): KyselyPlugin & { count: number } {
  const counter = {
    count: 0,
    transformQuery<T>(args: { node: T }): T {
      counter.count++;
      return args.node;
    },
    transformResult<R>(args: { result: R }): Promise<R> {
      return Promise.resolve(args.result);
    },
  };
  return counter;
}

describe.each(testDialects())('policy book on %s', (dialect) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 3));
    await t.drainJobs();
  }, 120_000);
  afterAll(() => t?.close());

  it('reads a SIM it does not hold once, however many usage items wait for it, and keeps their order', async () => {
    const counter = statementCounter();
    const db: Db = t.platform.services.db.withPlugin(counter);
    const book = new PolicyBook(db, { bindImei: () => undefined, bindCountry: () => undefined, violation: () => undefined }, () => new Date());
    const sim = await t.platform.network.usage.sims.resolveIccid(iccidFor(2));
    expect(sim).toBeDefined();
    expect(book.isReady(sim!)).toBe(false);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 200 }, (_, i) => book.prepare(sim!).then(() => order.push(i))));
    expect(counter.count).toBe(1);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(book.isReady(sim!)).toBe(true);
    // Another SIM not yet held gets one read of its own.
    await book.prepare((await t.platform.network.usage.sims.resolveIccid(iccidFor(3)))!);
    expect(counter.count).toBe(2);
  });
});
