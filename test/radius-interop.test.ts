/**
 * Interoperability with FreeRADIUS's radclient (Debian package freeradius-utils) and its 3GPP dictionary: radclient
 * sends Accounting-Request, Access-Request and Disconnect-Request packets to a UDP socket answered by this codec, and
 * must accept the replies. Skipped when radclient is missing, except under CI=true, where that is a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, attr, Code, ipv4Value } from '../src/radius/attributes.ts';
import {
  decodePacket,
  encodeReply,
  type RadiusPacket,
  readUserPassword,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
} from '../src/radius/codec.ts';
import { readAccessRequest, readAccounting } from '../src/radius/readers.ts';

const SECRET = 'interop-secret';
const DICTIONARY_DIR = '/usr/share/freeradius';

const probe = spawnSync('radclient', ['-v'], { encoding: 'utf8' });
const haveRadclient = probe.error === undefined && probe.status === 0;
const inCi = process.env.CI === 'true';

interface Received {
  packet: RadiusPacket;
  requestAuthentic: boolean;
  messageAuthenticator: boolean | undefined;
}

let socket: Socket;
let port = 0;
const received: Received[] = [];

/** Runs radclient with `input` (attribute lines; packets separated by blank lines) and returns its exit code and output. */
function radclient(command: 'acct' | 'auth' | 'disconnect', input: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', ['-x', '-r', '2', '-t', '3', '-D', DICTIONARY_DIR, `127.0.0.1:${port}`, command, SECRET], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

describe('RADIUS interop with FreeRADIUS radclient', () => {
  it.runIf(inCi && !haveRadclient)('has radclient installed (CI installs freeradius-utils)', () => {
    throw new Error(
      'radclient was not found but CI=true: install the Debian package freeradius-utils (apt-get install -y freeradius-utils) before the tests',
    );
  });

  describe.skipIf(!haveRadclient)('with radclient', () => {
    beforeAll(async () => {
      socket = createSocket('udp4');
      socket.on('message', (msg, rinfo) => {
        const packet = decodePacket(msg);
        const requestAuthentic = packet.code === Code.AccessRequest ? false : verifyRequestAuthenticator(msg, SECRET);
        const messageAuthenticator = verifyMessageAuthenticator(packet, SECRET);
        received.push({ packet, requestAuthentic, messageAuthenticator });
        let reply: Buffer | undefined;
        // a request signed with a Message-Authenticator gets a signed reply
        const signed = { messageAuthenticator: messageAuthenticator === true };
        if (packet.code === Code.AccountingRequest && requestAuthentic && messageAuthenticator !== false) {
          reply = encodeReply(packet, Code.AccountingResponse, [], SECRET, signed);
        }
        if (packet.code === Code.AccessRequest && messageAuthenticator === true) {
          reply = encodeReply(packet, Code.AccessAccept, [attr(Attr.ReplyMessage, 'welcome'), attr(Attr.FramedIpAddress, ipv4Value('100.64.9.9'))], SECRET);
        }
        if (packet.code === Code.DisconnectRequest && requestAuthentic && messageAuthenticator !== false) {
          reply = encodeReply(packet, Code.DisconnectAck, [], SECRET, signed);
        }
        if (reply) socket.send(reply, rinfo.port, rinfo.address);
      });
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      port = socket.address().port;
    });

    afterAll(() => new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve())));

    it('decodes and verifies Accounting-Request Start and Interim with 3GPP attributes and radclient accepts the responses', async () => {
      const common = [
        'User-Name = "460001234567890"',
        'Acct-Session-Id = "0A1B2C3D"',
        'Acct-Multi-Session-Id = "multi-7"',
        'Framed-IP-Address = 100.64.1.2',
        'Called-Station-Id = "iot.example"',
        'Calling-Station-Id = "8613800138000"',
        'NAS-IP-Address = 192.0.2.1',
        'NAS-Identifier = "pgw-1"',
        '3GPP-IMSI = "460001234567890"',
        '3GPP-IMSI-MCC-MNC = "46000"',
        '3GPP-SGSN-MCC-MNC = "45406"',
        '3GPP-GGSN-MCC-MNC = "46000"',
        '3GPP-RAT-Type = EUTRAN',
        '3GPP-IMEISV = "3520990017614823"',
        '3GPP-User-Location-Info = 0x8254f460010254f46000abcdef',
        '3GPP-MS-Time-Zone = 0x2300',
        '3GPP-Charging-ID = 4000000001',
      ];
      const start = ['Acct-Status-Type = Start', 'Event-Timestamp = 1795766400', ...common];
      const interim = [
        'Acct-Status-Type = Interim-Update',
        'Event-Timestamp = 1795767000',
        'Acct-Session-Time = 600',
        'Acct-Input-Octets = 5',
        'Acct-Input-Gigawords = 2',
        'Acct-Output-Octets = 4294967295',
        'Acct-Output-Gigawords = 1',
        ...common,
      ];
      const before = received.length;
      const run = await radclient('acct', `${start.join('\n')}\n\n${interim.join('\n')}\n`);
      expect(run.output).toMatch(/Received Accounting-Response/);
      expect(run.output).not.toMatch(/verification failed|invalid/i);
      expect(run.code, run.output).toBe(0);

      const packets = received.slice(before);
      expect(packets).toHaveLength(2);
      for (const p of packets) {
        expect(p.packet.code).toBe(Code.AccountingRequest);
        expect(p.requestAuthentic).toBe(true);
      }
      const fields = packets.map((p) => readAccounting(p.packet));
      const first = fields.find((f) => f.status === 'start')!;
      const second = fields.find((f) => f.status === 'interim')!;
      expect(first).toMatchObject({ bytesIn: 0, bytesOut: 0, hasGigawords: false, eventTime: new Date(1795766400 * 1000) });
      expect(second).toMatchObject({
        statusType: 3,
        userName: '460001234567890',
        acctSessionId: '0A1B2C3D',
        multiSessionId: 'multi-7',
        framedIp: '100.64.1.2',
        apn: 'iot.example',
        msisdn: '8613800138000',
        nasIp: '192.0.2.1',
        nasIdentifier: 'pgw-1',
        bytesIn: 2 * 2 ** 32 + 5,
        bytesOut: 2 ** 32 + 4294967295,
        hasGigawords: true,
        sessionSeconds: 600,
        eventTime: new Date(1795767000 * 1000),
        imsi: '460001234567890',
        imsiMccMnc: '46000',
        sgsnMccMnc: '45406',
        ggsnMccMnc: '46000',
        imeisv: '3520990017614823',
        ratType: 6,
        rat: '4G',
        chargingId: 4000000001,
        timeZone: { offsetMinutes: 480, dstHours: 0 },
        location: { type: 'TAI+ECGI', mcc: '454', mnc: '06', tai: { tac: 0x0102 }, ecgi: { eci: 0xabcdef } },
      });
    });

    it('verifies an Access-Request with Message-Authenticator and radclient accepts the signed Access-Accept', async () => {
      const before = received.length;
      const lines = [
        'User-Name = "device-1"',
        'User-Password = "s3cret pass phrase, longer than 16"',
        'Calling-Station-Id = "8613800138000"',
        'Called-Station-Id = "iot.example"',
        'NAS-IP-Address = 127.0.0.1',
        '3GPP-IMSI = "001010000000001"',
        '3GPP-RAT-Type = 8',
        'Message-Authenticator = 0x00',
      ];
      const run = await radclient('auth', `${lines.join('\n')}\n`);
      expect(run.output).toMatch(/Received Access-Accept/);
      expect(run.output).toMatch(/Reply-Message = "welcome"/);
      expect(run.output).toMatch(/Framed-IP-Address = 100\.64\.9\.9/);
      expect(run.code, run.output).toBe(0);
      const [p] = received.slice(before);
      expect(p?.packet.code).toBe(Code.AccessRequest);
      expect(p?.messageAuthenticator).toBe(true);
      expect(readUserPassword(p!.packet, SECRET)).toBe('s3cret pass phrase, longer than 16');
      expect(readAccessRequest(p!.packet)).toMatchObject({
        userName: 'device-1',
        msisdn: '8613800138000',
        apn: 'iot.example',
        nasIp: '127.0.0.1',
        imsi: '001010000000001',
        ratType: 8,
        ratName: 'EUTRAN-NB-IoT',
        rat: 'NB-IoT',
        hasMessageAuthenticator: true,
      });
    });

    it('verifies Disconnect-Request authenticators, with and without Message-Authenticator, and radclient accepts the Disconnect-ACKs', async () => {
      const before = received.length;
      const lines = ['User-Name = "device-1"', 'Acct-Session-Id = "0A1B2C3D"', 'Framed-IP-Address = 100.64.1.2', 'NAS-IP-Address = 192.0.2.1'];
      const run = await radclient('disconnect', `${lines.join('\n')}\n\n${lines.join('\n')}\nMessage-Authenticator = 0x00\n`);
      expect(run.output.match(/Received Disconnect-ACK/g)).toHaveLength(2);
      expect(run.output).not.toMatch(/verification failed/i);
      expect(run.code, run.output).toBe(0);
      const packets = received.slice(before);
      expect(packets).toHaveLength(2);
      for (const p of packets) expect(p).toMatchObject({ packet: { code: Code.DisconnectRequest }, requestAuthentic: true });
      expect(packets.map((p) => String(p.messageAuthenticator)).sort()).toEqual(['true', 'undefined']);
    });

    it('verifies an Accounting-Request signed with a Message-Authenticator and radclient accepts the signed response', async () => {
      const before = received.length;
      const run = await radclient('acct', 'User-Name = "device-1"\nAcct-Status-Type = Start\nAcct-Session-Id = "s-ma"\nMessage-Authenticator = 0x00\n');
      expect(run.output).toMatch(/Received Accounting-Response/);
      expect(run.output).not.toMatch(/verification failed/i);
      expect(run.code, run.output).toBe(0);
      const [p] = received.slice(before);
      expect(p).toMatchObject({ requestAuthentic: true, messageAuthenticator: true });
    });
  });
});
