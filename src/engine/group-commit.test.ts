import { describe, expect, it } from 'vitest';
import { Backpressure, GroupCommit } from './group-commit.ts';

/** A group commit whose writes record their items and start times, and take `writeMs` each. */
function recorder(options: { maxBatch?: number; maxQueue?: number; minIntervalMs?: number; writeMs?: number; failOn?: number } = {}) {
  const writes: { items: number[]; at: number }[] = [];
  const failed: number[][] = [];
  const commit = new GroupCommit<number>(
    async (items) => {
      writes.push({ items, at: performance.now() });
      await new Promise((resolve) => setTimeout(resolve, options.writeMs ?? 1));
      if (options.failOn !== undefined && items.includes(options.failOn)) throw new Error(`write of ${options.failOn} failed`);
    },
    { maxBatch: options.maxBatch ?? 100, maxQueue: options.maxQueue ?? 1000, minIntervalMs: options.minIntervalMs ?? 0 },
    (items) => {
      failed.push(items);
    },
  );
  return { commit, writes, failed };
}

describe('GroupCommit', () => {
  it('writes items submitted in one turn together, and each submitter learns when its item is durable', async () => {
    const { commit, writes } = recorder();
    const done: number[] = [];
    const all = [1, 2, 3].map((n) => commit.submit(n).then(() => done.push(n)));
    expect(done).toEqual([]);
    await Promise.all(all);
    expect(writes.map((w) => w.items)).toEqual([[1, 2, 3]]);
    expect(done).toEqual([1, 2, 3]);
  });

  it('under load starts a transaction no sooner than the interval after the previous one, unless a full batch waits', async () => {
    const paced = recorder({ minIntervalMs: 40, maxBatch: 5 });
    const first = paced.commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    // NOTE: submitted while the first transaction is written: they wait for the interval and go together.
    const next = [2, 3].map((n) => paced.commit.submit(n));
    await Promise.all([first, ...next]);
    expect(paced.writes.map((w) => w.items)).toEqual([[1], [2, 3]]);
    expect(paced.writes[1]!.at - paced.writes[0]!.at).toBeGreaterThanOrEqual(39);

    const full = recorder({ minIntervalMs: 1000, maxBatch: 2 });
    const started = performance.now();
    await Promise.all([1, 2, 3, 4, 5].map((n) => full.commit.submit(n)));
    // Full batches do not wait; only the last, partial one does.
    expect(full.writes.map((w) => w.items)).toEqual([[1, 2], [3, 4], [5]]);
    expect(full.writes[1]!.at - started).toBeLessThan(500);
    expect(full.writes[2]!.at - full.writes[1]!.at).toBeGreaterThanOrEqual(999);
  });

  it('starts at once after a quiet spell longer than the interval', async () => {
    const { commit, writes } = recorder({ minIntervalMs: 30 });
    await commit.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const submitted = performance.now();
    await commit.submit(2);
    expect(writes[1]!.at - submitted).toBeLessThan(25);
  });

  it('rejects a failed batch and everything queued behind it, and hands them to be undone', async () => {
    const { commit, failed } = recorder({ failOn: 1, writeMs: 20 });
    const first = commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const behind = commit.submit(2);
    await expect(first).rejects.toThrow('write of 1 failed');
    await expect(behind).rejects.toThrow('write of 1 failed');
    expect(failed).toEqual([[1, 2]]);
    // The next item is written as usual.
    await expect(commit.submit(3)).resolves.toBeUndefined();
  });

  it('refuses at once when the queue is full, and drain waits for what was accepted', async () => {
    const { commit, writes } = recorder({ maxQueue: 2, minIntervalMs: 20 });
    const accepted = [commit.submit(1), commit.submit(2)];
    expect(commit.full).toBe(true);
    await expect(commit.submit(3)).rejects.toBeInstanceOf(Backpressure);
    await commit.drain();
    expect(commit.queued).toBe(0);
    expect(writes.flatMap((w) => w.items)).toEqual([1, 2]);
    await Promise.all(accepted);
  });
});
