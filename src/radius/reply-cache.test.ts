import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyCache } from './reply-cache.ts';

/** A request header: code, identifier, length, authenticator. */
const request = (id: number, auth: Buffer = randomBytes(16)): Buffer => Buffer.concat([Buffer.of(4, id, 0, 20), auth]);
const reply = (id: number, fill: number, length = 20): Buffer => Buffer.alloc(length, fill).fill(id, 1, 2);

describe('the RADIUS reply cache', () => {
  it('knows a request as pending until answered, then gives its answer again', () => {
    const cache = new ReplyCache({ capacity: 16, windowMs: 30_000 });
    const msg = request(7);
    expect(cache.seen('10.0.0.1', 1813, msg)).toBeUndefined();
    const token = cache.begin('10.0.0.1', 1813, msg);
    expect(cache.seen('10.0.0.1', 1813, msg)).toBeNull();
    expect(cache.answer(token, reply(7, 0xaa))).toBe(true);
    expect(cache.seen('10.0.0.1', 1813, Buffer.from(msg))).toEqual(reply(7, 0xaa));
    const long = reply(7, 0xbb, 64);
    const other = request(8);
    cache.answer(cache.begin('10.0.0.1', 1813, other), long);
    expect(cache.seen('10.0.0.1', 1813, other)).toEqual(long);
  });

  it('tells requests apart by source address, port, identifier and every byte of the authenticator', () => {
    const cache = new ReplyCache({ capacity: 64, windowMs: 30_000 });
    const auth = randomBytes(16);
    cache.answer(cache.begin('10.0.0.1', 1813, request(1, auth)), reply(1, 1));
    expect(cache.seen('10.0.0.2', 1813, request(1, auth))).toBeUndefined();
    expect(cache.seen('10.0.0.1', 1814, request(1, auth))).toBeUndefined();
    expect(cache.seen('10.0.0.1', 1813, request(2, auth))).toBeUndefined();
    for (let byte = 0; byte < 16; byte++) {
      const changed = Buffer.from(auth);
      changed[byte] = changed[byte]! ^ 1;
      expect(cache.seen('10.0.0.1', 1813, request(1, changed))).toBeUndefined();
    }
    expect(cache.seen('10.0.0.1', 1813, request(1, auth))).toEqual(reply(1, 1));
  });

  it('forgets a request after the window, when pushed out by newer ones, or when told to', () => {
    let now = 1_000_000;
    const cache = new ReplyCache({ capacity: 4, windowMs: 30_000, now: () => now });
    const first = request(1);
    cache.answer(cache.begin('10.0.0.1', 1813, first), reply(1, 1));
    now += 30_001;
    expect(cache.seen('10.0.0.1', 1813, first)).toBeUndefined();

    const kept = [request(2), request(3), request(4), request(5)].map((msg, i) => ({ msg, token: cache.begin('10.0.0.1', 1813, msg), i }));
    expect(cache.seen('10.0.0.1', 1813, kept[0]!.msg)).toBeNull();
    cache.begin('10.0.0.1', 1813, request(6));
    expect(cache.seen('10.0.0.1', 1813, kept[0]!.msg)).toBeUndefined();
    // NOTE: the answer to a request pushed out must not land on the request that took its place.
    expect(cache.answer(kept[0]!.token, reply(2, 2))).toBe(false);
    expect(cache.seen('10.0.0.1', 1813, request(6))).toBeUndefined();

    cache.forget(kept[1]!.token);
    expect(cache.seen('10.0.0.1', 1813, kept[1]!.msg)).toBeUndefined();
    expect(cache.seen('10.0.0.1', 1813, kept[2]!.msg)).toBeNull();
    expect(cache.entries).toBe(3);
  });

  it('finds exactly the requests still held, whatever mix of answers, forgets and reuse (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ source: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 3 }), salt: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom('answer', 'forget', 'keep') }), {
          maxLength: 200,
        }),
        (steps) => {
          const capacity = 8;
          const cache = new ReplyCache({ capacity, windowMs: 30_000 });
          // Model: the newest `capacity` begins, in order, with what became of each.
          const model: { key: string; msg: Buffer; address: string; state: 'pending' | 'answered' | 'gone'; reply?: Buffer }[] = [];
          for (const s of steps) {
            const address = `10.0.0.${s.source}`;
            const msg = request(s.id, Buffer.alloc(16, s.salt));
            const key = `${address}|${s.id}|${s.salt}`;
            // NOTE: a request already held is a retransmission; the server does not begin it again.
            const held = model.slice(-capacity).findLast((m) => m.key === key && m.state !== 'gone');
            if (held) continue;
            const token = cache.begin(address, 1813, msg);
            const entry: (typeof model)[number] = { key, msg, address, state: 'pending' };
            if (s.op === 'answer') {
              entry.reply = reply(s.id, s.salt + 1);
              cache.answer(token, entry.reply);
              entry.state = 'answered';
            } else if (s.op === 'forget') {
              cache.forget(token);
              entry.state = 'gone';
            }
            model.push(entry);
          }
          const window = model.slice(-capacity);
          for (const m of model) {
            const found = cache.seen(m.address, 1813, m.msg);
            const live = window.findLast((w) => w.key === m.key);
            if (!live || live.state === 'gone') expect(found).toBeUndefined();
            else if (live.state === 'pending') expect(found).toBeNull();
            else expect(found).toEqual(live.reply);
          }
        },
      ),
    );
  });
});
