import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, iso, isoOrNull, limitSchema, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { SESSION_STATUSES, type Session } from './session.ts';

const SessionSchema = z
  .object({
    id: z.string(),
    iccid: z.string(),
    accountId: z.string(),
    gatewayId: z.string(),
    acctSessionId: z.string().describe('Acct-Session-Id given by the gateway'),
    imsi: z.string().nullable(),
    status: z.enum(SESSION_STATUSES).describe('start: just started; alive: interim updates arriving; stop: ended'),
    startedAt: Timestamp,
    lastSeenAt: Timestamp.describe('time of the last accounting packet'),
    stoppedAt: Timestamp.nullable(),
    stopCause: z.string().nullable().describe('Acct-Terminate-Cause, or why the platform closed the session'),
    bytesIn: z.number().int().describe('octets sent by the device (uplink), cumulative'),
    bytesOut: z.number().int().describe('octets sent to the device (downlink), cumulative'),
    bytes: z.number().int(),
    sessionSeconds: z.number().int().nullable(),
    apn: z.string().nullable(),
    framedIp: z.string().nullable(),
    rat: z.string().nullable().describe('radio access type: 2G, 3G, 4G, NB-IoT, LTE-M, 5G'),
    mccMnc: z.string().nullable().describe('serving network (3GPP-SGSN-MCC-MNC)'),
    country: z.string().nullable().describe('ISO 3166-1 alpha-2 country of the serving network'),
    operator: z.string().nullable().describe('name of the serving network, where known'),
    cell: z.record(z.string(), z.unknown()).nullable().describe('user location (MCC, MNC, LAC/TAC, cell id)'),
    imei: z.string().nullable(),
  })
  .meta({ id: 'Session' });

const sessionDto = (s: Session) => ({
  id: s.id,
  iccid: s.iccid,
  accountId: s.accountId,
  gatewayId: s.gatewayId,
  acctSessionId: s.acctSessionId,
  imsi: s.imsi,
  status: s.status,
  startedAt: iso(s.startedAt),
  lastSeenAt: iso(s.lastSeenAt),
  stoppedAt: isoOrNull(s.stoppedAt),
  stopCause: s.stopCause,
  bytesIn: s.bytesIn,
  bytesOut: s.bytesOut,
  bytes: s.bytesIn + s.bytesOut,
  sessionSeconds: s.sessionSeconds,
  apn: s.apn,
  framedIp: s.framedIp,
  rat: s.rat,
  mccMnc: s.mccMnc,
  country: s.network?.country ?? null,
  operator: s.network?.operator ?? null,
  cell: s.cell,
  imei: s.imei,
});

const SessionPageSchema = z.object({ items: z.array(SessionSchema), nextCursor: z.string().nullable() });
const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });
const HistoryQuery = z.object({
  status: csvList(z.enum(SESSION_STATUSES)).optional().describe('one or more of start, alive, stop, comma-separated'),
  from: Timestamp.optional().describe('sessions still open at or ended after this time'),
  to: Timestamp.optional().describe('sessions started before this time'),
  cursor: cursorSchema,
  limit: limitSchema,
});
const tags = ['sessions'];

const toQuery = (q: z.infer<typeof HistoryQuery>) => ({
  status: q.status,
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
  cursor: q.cursor,
  limit: q.limit,
});

export const sessionRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/sims/:iccid/session', {
      schema: {
        tags,
        summary: 'The live data session of a SIM, or its last one',
        params: IccidParam,
        response: { 200: SessionSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => sessionDto(await s.sessions.getCurrentSession(principalOf(req), req.params.iccid)),
    });
    app.get('/sims/:iccid/sessions', {
      schema: {
        tags,
        summary: 'Data sessions of a SIM, newest first',
        params: IccidParam,
        querystring: HistoryQuery,
        response: { 200: SessionPageSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const page = await s.sessions.listSimSessions(principalOf(req), req.params.iccid, toQuery(req.query));
        return { items: page.items.map(sessionDto), nextCursor: page.nextCursor };
      },
    });
    app.get('/sessions', {
      schema: {
        tags,
        summary: "Data sessions of a group's SIMs, or of every SIM the caller sees, newest first",
        querystring: HistoryQuery.extend({ groupId: z.string().max(100).optional() }),
        response: { 200: SessionPageSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const page = await s.sessions.listSessions(principalOf(req), { ...toQuery(req.query), groupId: req.query.groupId });
        return { items: page.items.map(sessionDto), nextCursor: page.nextCursor };
      },
    });
  };
