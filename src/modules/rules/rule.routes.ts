import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, isoOrNull, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { SimulatedFiring } from './backtest.ts';
import type { RuleFiring } from './rule.repository.ts';
import { BACKTEST_MAX_DAYS } from './rule.service.ts';
import { RuleActionSchema, RuleConditionsSchema, RuleDefinitionSchema, RuleScopeSchema, type Rule } from './rule.ts';

const tags = ['rules'];

const RuleSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    ...RuleDefinitionSchema.shape,
    templateId: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Rule' });

const RuleBody = z
  .object({ accountId: z.string().min(1).max(100).optional().describe("the account that owns the rule (default: the caller's)"), ...RuleDefinitionSchema.shape })
  .strict()
  .meta({ id: 'NewRule' });

const SubjectSchema = z.object({ kind: z.enum(['sim', 'group', 'pool']), id: z.string() });
const ActionResultSchema = z.object({ type: z.string(), status: z.enum(['pending', 'ok', 'failed', 'skipped', 'simulated']), detail: z.string().nullable() });

const FiringSchema = z
  .object({
    id: z.number().int(),
    ruleId: z.string(),
    accountId: z.string(),
    subject: SubjectSchema,
    subjectAccountId: z.string(),
    iccid: z.string().nullable(),
    period: z.string().describe('the cycle (YYYY-MM), day (YYYY-MM-DD) or spell the firing counts in'),
    stage: z.string(),
    inputs: z.record(z.string(), z.unknown()).describe('the trigger values that made the rule fire'),
    status: z.enum(['pending', 'done']),
    actions: z.array(ActionResultSchema),
    firedAt: Timestamp,
    completedAt: Timestamp.nullable(),
  })
  .meta({ id: 'RuleFiring' });

const BacktestSchema = z
  .object({
    ruleId: z.string().nullable(),
    from: Timestamp,
    to: Timestamp,
    sims: z.number().int().describe('SIMs replayed'),
    firings: z.array(
      z.object({
        subject: SubjectSchema,
        iccid: z.string().nullable(),
        at: Timestamp,
        period: z.string(),
        stage: z.string(),
        inputs: z.record(z.string(), z.unknown()),
        actions: z.array(z.object({ type: z.string(), status: z.literal('simulated') })),
      }),
    ),
    truncated: z.boolean(),
    notes: z.array(z.string()),
  })
  .meta({ id: 'RuleBacktest' });

const TemplateSchema = z
  .object({ id: z.string(), name: z.string(), description: z.string(), definition: z.record(z.string(), z.unknown()).describe('trigger (and defaults) the rule takes') })
  .meta({ id: 'RuleTemplate' });

const BacktestQuery = z.object({
  days: z.coerce.number().int().min(1).max(BACKTEST_MAX_DAYS).default(7).describe(`days of history to replay, 1-${BACKTEST_MAX_DAYS}`),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe('most firings listed'),
});

const ruleDto = (r: Rule) => ({ ...r, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) });
const firingDto = (f: RuleFiring) => ({ ...f, firedAt: iso(f.firedAt), completedAt: isoOrNull(f.completedAt) });
const simulatedDto = (f: SimulatedFiring) => ({ ...f, at: iso(f.at) });

export const ruleRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/rules', {
      schema: {
        tags,
        summary: 'List automation rules (自动化规则) of the caller and the accounts below it',
        querystring: z.object({ enabled: z.enum(['true', 'false']).optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(RuleSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, enabled } = req.query;
        const items = await s.rules.listRules(principalOf(req), { after: cursor, limit, ...(enabled ? { enabled: enabled === 'true' } : {}) });
        return { items: items.map(ruleDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/rules', {
      schema: {
        tags,
        summary: 'Create a rule: scope, trigger, conditions (all/any) and actions',
        description:
          'A rule fires at most once per subject, period (cycle or day) and stage unless repeat is every_time; cooldownMinutes spaces firings for one subject. Usage and session triggers are evaluated by the usage engine after each commit; offline, test period and expiry triggers by the scheduler.',
        body: RuleBody,
        response: { 201: RuleSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => reply.code(201).send(ruleDto(await s.rules.createRule(principalOf(req), req.body))),
    });
    app.post('/rules/backtest', {
      schema: {
        tags,
        summary: 'Backtest a rule that is not saved: what it would have done over the last N days',
        querystring: BacktestQuery,
        body: RuleBody,
        response: { 200: BacktestSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => {
        const r = await s.rules.backtest(principalOf(req), req.body, req.query.days, req.query.limit);
        return { ...r, from: iso(r.from), to: iso(r.to), firings: r.firings.map(simulatedDto) };
      },
    });
    app.get('/rules/:id', {
      schema: { tags, summary: 'One rule', params: IdParam, response: { 200: RuleSchema, ...problems(401, 404) } },
      handler: async (req) => ruleDto(await s.rules.getRule(principalOf(req), req.params.id)),
    });
    app.put('/rules/:id', {
      schema: { tags, summary: "Replace a rule's definition", params: IdParam, body: RuleDefinitionSchema, response: { 200: RuleSchema, ...problems(400, 401, 403, 404) } },
      handler: async (req) => ruleDto(await s.rules.replaceRule(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/rules/:id', {
      schema: { tags, summary: 'Delete a rule and its firings log', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.rules.deleteRule(principalOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
    for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
      app.post(`/rules/:id/${verb}`, {
        schema: { tags, summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a rule`, params: IdParam, response: { 200: RuleSchema, ...problems(401, 403, 404) } },
        handler: async (req) => ruleDto(await s.rules.setEnabled(principalOf(req), req.params.id, enabled)),
      });
    }
    app.post('/rules/:id/backtest', {
      schema: {
        tags,
        summary: 'Backtest a rule: what it would have done over the last N days of usage, sessions and state changes',
        description: 'Nothing is recorded and no action runs. Conditions are judged on the SIMs\u2019 current attributes; test period and expiry triggers are not replayed.',
        params: IdParam,
        querystring: BacktestQuery,
        response: { 200: BacktestSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const r = await s.rules.backtest(principalOf(req), { id: req.params.id }, req.query.days, req.query.limit);
        return { ...r, from: iso(r.from), to: iso(r.to), firings: r.firings.map(simulatedDto) };
      },
    });
    app.get('/rule-firings', {
      schema: {
        tags,
        summary: 'The firings log: every firing of the rules of the caller and the accounts below it, newest first',
        querystring: z.object({
          ruleId: z.string().max(100).optional(),
          iccid: z.string().regex(/^\d{19,20}$/).optional(),
          subjectId: z.string().max(200).optional().describe('a group id, a pool (<account>|<plan>) or an ICCID'),
          status: z.enum(['pending', 'done']).optional(),
          from: Timestamp.optional(),
          to: Timestamp.optional(),
          cursor: z.coerce.number().int().min(1).optional().describe('nextCursor of the previous page'),
          limit: limitSchema,
        }),
        response: { 200: z.object({ items: z.array(FiringSchema), nextCursor: z.string().nullable() }), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, from, to, ...filter } = req.query;
        const items = await s.rules.listFirings(principalOf(req), { ...filter, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) }, { before: cursor, limit });
        return { items: items.map(firingDto), nextCursor: items.length === limit ? String(items.at(-1)!.id) : null };
      },
    });
    app.get('/rule-templates', {
      schema: { tags, summary: 'Ready-made rules: usage thresholds, staged 70/90/100 %, expiry, test period, offline, daily anomaly', response: { 200: z.object({ items: z.array(TemplateSchema) }), ...problems(401) } },
      handler: async () => ({ items: s.rules.listTemplates().map((t) => ({ ...t, definition: t.definition })) }),
    });
    app.post('/rule-templates/:id/rules', {
      schema: {
        tags,
        summary: 'Create a rule from a template, with a scope and actions (default: webhook)',
        params: IdParam,
        body: z
          .object({
            accountId: z.string().min(1).max(100).optional(),
            name: z.string().trim().min(1).max(200).optional(),
            scope: RuleScopeSchema,
            conditions: RuleConditionsSchema.optional(),
            actions: z.array(RuleActionSchema).min(1).max(10).optional(),
            enabled: z.boolean().optional(),
            cooldownMinutes: z.number().int().min(0).max(525_600).optional(),
          })
          .strict(),
        response: { 201: RuleSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => reply.code(201).send(ruleDto(await s.rules.createFromTemplate(principalOf(req), req.params.id, req.body))),
    });
  };
