/**
 * RADIUS codec micro-benchmark, one core: packets per second for the per-packet work of the RADIUS server.
 *
 *   accounting: decodePacket + verifyRequestAuthenticator + readAccounting + encodeReply(Accounting-Response)
 *   access:     decodePacket + verifyMessageAuthenticator + readAccessRequest + encodeReply(Access-Accept, signed)
 *
 * The peer is the `radius` npm package (decode with authenticator check + encode_response) on the same packets. It
 * is not a dependency of the project: it is used when `import('radius')` resolves, or from RADIUS_PEER_DIR (a
 * folder whose node_modules holds it: `npm install --prefix DIR --ignore-scripts radius`).
 *
 *   npx tsx bench/radius-codec.ts                 BENCH_PACKETS=300000 by default
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Attr, Attr3gpp, attr, attr3gpp, Code, hexValue, ipv4Value, timeValue, uint8Value } from '../src/radius/attributes.ts';
import { decodePacket, encodeAccessRequest, encodeReply, encodeRequest, verifyMessageAuthenticator, verifyRequestAuthenticator } from '../src/radius/codec.ts';
import { readAccessRequest, readAccounting } from '../src/radius/readers.ts';

const PACKETS = Number(process.env.BENCH_PACKETS ?? 300_000);
const ROUNDS = 5;
const TARGET_PER_SECOND = 40_000;
const SECRET = 'bench-secret-1234';

const line = (text = ''): void => void process.stdout.write(`${text}\n`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Distinct packets (different sessions and counters) so nothing is cached by accident. */
function accountingPackets(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    encodeRequest(
      Code.AccountingRequest,
      i & 0xff,
      [
        attr(Attr.AcctStatusType, 3),
        attr(Attr.UserName, `46000${String(1_000_000_000 + i)}`),
        attr(Attr.AcctSessionId, `sess-${i.toString(16).padStart(8, '0')}`),
        attr(Attr.FramedIpAddress, ipv4Value(`100.64.${(i >> 8) & 0xff}.${i & 0xff}`)),
        attr(Attr.CalledStationId, 'iot.example.mnc000.mcc460.gprs'),
        attr(Attr.CallingStationId, `86138${String(10_000_000 + i)}`),
        attr(Attr.NasIpAddress, ipv4Value('192.0.2.1')),
        attr(Attr.NasIdentifier, 'pgw-1'),
        attr(Attr.AcctInputOctets, (i * 7919) >>> 0),
        attr(Attr.AcctOutputOctets, (i * 104729) >>> 0),
        attr(Attr.AcctInputGigawords, 0),
        attr(Attr.AcctOutputGigawords, 1),
        attr(Attr.AcctSessionTime, 600),
        attr(Attr.EventTimestamp, timeValue(new Date(1_795_766_400_000 + i * 1000))),
        attr3gpp(Attr3gpp.Imsi, `46000${String(1_000_000_000 + i)}`),
        attr3gpp(Attr3gpp.ChargingId, i),
        attr3gpp(Attr3gpp.ImsiMccMnc, '46000'),
        attr3gpp(Attr3gpp.SgsnMccMnc, '45406'),
        attr3gpp(Attr3gpp.ImeiSv, '3520990017614823'),
        attr3gpp(Attr3gpp.RatType, uint8Value(6)),
        attr3gpp(Attr3gpp.UserLocationInfo, hexValue('8254f460010254f46000abcdef')),
        attr3gpp(Attr3gpp.MsTimeZone, hexValue('2300')),
      ],
      SECRET,
    ),
  );
}

function accessPackets(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    encodeAccessRequest(
      i & 0xff,
      [
        attr(Attr.UserName, `46000${String(1_000_000_000 + i)}`),
        attr(Attr.CallingStationId, `86138${String(10_000_000 + i)}`),
        attr(Attr.CalledStationId, 'iot.example'),
        attr(Attr.NasIpAddress, ipv4Value('192.0.2.1')),
        attr3gpp(Attr3gpp.Imsi, `46000${String(1_000_000_000 + i)}`),
        attr3gpp(Attr3gpp.RatType, uint8Value(8)),
      ],
      SECRET,
      { password: 'device-password' },
    ),
  );
}

/** Best of `ROUNDS` timed passes over `packets` (after one warm-up pass); packets per second. */
function measure(packets: Buffer[], work: (raw: Buffer) => void): number {
  for (const p of packets.slice(0, 20_000)) work(p);
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (const p of packets) work(p);
    best = Math.max(best, packets.length / ((performance.now() - started) / 1000));
  }
  return best;
}

let sink = 0;

const ours = {
  decodeOnly: (raw: Buffer): void => {
    sink += decodePacket(raw).attributes.count;
  },
  accounting: (raw: Buffer): void => {
    const packet = decodePacket(raw);
    if (!verifyRequestAuthenticator(packet.raw, SECRET)) throw new Error('bad authenticator');
    const fields = readAccounting(packet);
    sink += fields.bytesOut + encodeReply(packet, Code.AccountingResponse, [], SECRET).length;
  },
  access: (raw: Buffer): void => {
    const packet = decodePacket(raw);
    if (verifyMessageAuthenticator(packet, SECRET) !== true) throw new Error('bad Message-Authenticator');
    const fields = readAccessRequest(packet);
    sink += (fields.imsi?.length ?? 0) + encodeReply(packet, Code.AccessAccept, [], SECRET).length;
  },
};

interface RadiusPeer {
  decode(args: { packet: Buffer; secret: string }): { attributes: Record<string, unknown> };
  encode_response(args: { packet: unknown; code: string; secret: string; attributes?: unknown[] }): Buffer;
  add_dictionary(file: string): void;
}

async function loadPeer(): Promise<{ peer: RadiusPeer; from: string } | { missing: string }> {
  const name = 'radius';
  try {
    const mod = (await import(name)) as { default?: RadiusPeer };
    return { peer: mod.default ?? (mod as unknown as RadiusPeer), from: 'the project' };
  } catch {
    const dir = process.env.RADIUS_PEER_DIR;
    if (dir !== undefined && existsSync(join(dir, 'node_modules', name))) {
      return { peer: createRequire(join(dir, 'noop.js'))(name) as RadiusPeer, from: dir };
    }
    return {
      missing:
        'the `radius` npm package is not installed, so there is no peer figure (it has no build scripts: ' +
        '`npm install --prefix /tmp/radius-peer --ignore-scripts radius` then RADIUS_PEER_DIR=/tmp/radius-peer)',
    };
  }
}

line(`RADIUS codec benchmark — ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, one core used`);
const acct = accountingPackets(PACKETS);
const access = accessPackets(Math.min(PACKETS, 100_000));
line(`${int(acct.length)} Accounting-Requests of ${acct[0]!.length} octets (22 attributes, 9 of them 3GPP), ${int(access.length)} Access-Requests of ${access[0]!.length} octets`);
line();

const decodeRate = measure(acct, ours.decodeOnly);
const acctRate = measure(acct, ours.accounting);
const accessRate = measure(access, ours.access);
line(`meridian decode only:                                   ${int(decodeRate).padStart(10)} packets/s`);
line(`meridian accounting (decode+verify+read+reply):         ${int(acctRate).padStart(10)} packets/s  (target > ${int(TARGET_PER_SECOND)}: ${acctRate > TARGET_PER_SECOND ? 'meets target' : 'MISSES target'})`);
line(`meridian access (decode+Message-Auth+read+signed reply):${int(accessRate).padStart(10)} packets/s`);

const loaded = await loadPeer();
if ('missing' in loaded) {
  line(`peer: ${loaded.missing}`);
} else {
  const { peer } = loaded;
  let dictionary = 'its own RFC dictionaries';
  try {
    peer.add_dictionary('/usr/share/freeradius/dictionary.3gpp');
    dictionary += ' + FreeRADIUS dictionary.3gpp';
  } catch {
    dictionary += ' (3GPP attributes left undecoded)';
  }
  const peerAcct = measure(acct, (raw) => {
    const packet = peer.decode({ packet: raw, secret: SECRET });
    sink += peer.encode_response({ packet, code: 'Accounting-Response', secret: SECRET }).length;
  });
  const peerAccess = measure(access, (raw) => {
    const packet = peer.decode({ packet: raw, secret: SECRET });
    sink += peer.encode_response({ packet, code: 'Access-Accept', secret: SECRET }).length;
  });
  line(`peer \`radius\` (from ${loaded.from}, ${dictionary}):`);
  line(`  accounting (decode with authenticator check + encode_response): ${int(peerAcct).padStart(10)} packets/s  -> meridian ${(acctRate / peerAcct).toFixed(2)}x`);
  line(`  access (decode with Message-Authenticator check + encode_response): ${int(peerAccess).padStart(10)} packets/s  -> meridian ${(accessRate / peerAccess).toFixed(2)}x`);
}
if (sink === 0.5) line('');
