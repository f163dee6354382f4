/** `meridian rules …`: automation rules, their firings, backtests and templates through the REST API. */
import type { Command } from 'commander';
import { addPaging, apiCommand, CliError, type Context, fetchList, integer, type PagingOptions, printList, readInput, run, UsageError } from './command-kit.ts';
import { renderTable, time } from './output.ts';

interface RuleDto {
  id: string;
  accountId: string;
  name: string;
  enabled: boolean;
  scope: { kind: string; id?: string; iccid?: string };
  trigger: { type: string } & Record<string, unknown>;
  actions: { type: string }[];
}

interface FiringDto {
  id: number;
  ruleId: string;
  subject: { kind: string; id: string };
  period: string;
  stage: string;
  status: string;
  actions: { type: string; status: string; detail: string | null }[];
  firedAt: string;
}

interface BacktestDto {
  from: string;
  to: string;
  sims: number;
  firings: { subject: { kind: string; id: string }; at: string; period: string; stage: string; actions: { type: string }[] }[];
  truncated: boolean;
  notes: string[];
}

const scopeText = (s: RuleDto['scope']): string => `${s.kind} ${s.iccid ?? s.id ?? ''}`.trim();
const triggerText = (t: RuleDto['trigger']): string => {
  const stages = (t.percents as number[] | undefined)?.map((p) => `${p}%`) ?? (t.megabytes as number[] | undefined)?.map((m) => `${m} MB`);
  const of = t.of as string | undefined;
  const extra = stages ? ` ${stages.join('/')} per ${String(t.period)}${of && of !== 'sim' ? ` of ${of}` : ''}` : '';
  return `${t.type}${extra}`;
};

/** Parses `kind:id` (account:acc_…, group:grp_…, plan:…, sim:<ICCID>). */
function parseScope(value: string): Record<string, string> {
  const at = value.indexOf(':');
  const kind = value.slice(0, at);
  const id = value.slice(at + 1);
  if (at <= 0 || !id || !['account', 'group', 'plan', 'sim'].includes(kind)) throw new UsageError(`--scope ${JSON.stringify(value)} must be account:<id>, group:<id>, plan:<id> or sim:<ICCID>`);
  return kind === 'sim' ? { kind, iccid: id } : { kind, id };
}

async function readRule(file: string): Promise<unknown> {
  const text = await readInput(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

export function registerRuleCommands(program: Command): void {
  const rules = program.command('rules').description('automation rules (自动化规则): triggers, conditions and actions; firings; backtests');

  addPaging(apiCommand(rules, 'list', 'list the rules').option('--enabled', 'only enabled rules').option('--disabled', 'only disabled rules'), 100).action(
    run<PagingOptions & { enabled?: boolean; disabled?: boolean }>(async (ctx) => {
      const enabled = ctx.opts.enabled ? 'true' : ctx.opts.disabled ? 'false' : undefined;
      const page = await fetchList<RuleDto>(ctx, '/rules', { enabled }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (r) => r.id },
          { header: 'NAME', value: (r) => r.name },
          { header: 'ON', value: (r) => (r.enabled ? 'yes' : 'no') },
          { header: 'SCOPE', value: (r) => scopeText(r.scope) },
          { header: 'TRIGGER', value: (r) => triggerText(r.trigger) },
          { header: 'ACTIONS', value: (r) => r.actions.map((a) => a.type).join(', ') },
        ],
        'rules',
      );
    }),
  );

  apiCommand(rules, 'create [file]', 'create a rule from a JSON definition (a file, or - for standard input), or from a template')
    .option('--template <id>', 'a template id (see: meridian rules templates)')
    .option('--scope <kind:id>', 'with --template: account:<id>, group:<id>, plan:<id> or sim:<ICCID>')
    .option('--name <name>', 'with --template: the rule name')
    .action(
      run<{ template?: string; scope?: string; name?: string; json?: boolean }>(async (ctx) => {
        const file = ctx.cmd.args[0];
        let rule: RuleDto;
        if (ctx.opts.template) {
          if (!ctx.opts.scope) throw new UsageError('--template needs --scope');
          rule = await ctx.client.post<RuleDto>(`/rule-templates/${encodeURIComponent(ctx.opts.template)}/rules`, { scope: parseScope(ctx.opts.scope), ...(ctx.opts.name ? { name: ctx.opts.name } : {}) });
        } else {
          if (!file) throw new UsageError('give a JSON file (or -), or --template with --scope');
          rule = await ctx.client.post<RuleDto>('/rules', await readRule(file));
        }
        if (ctx.opts.json) return ctx.out.json(rule);
        ctx.out.print(`created rule ${rule.id}: ${rule.name} (${triggerText(rule.trigger)} on ${scopeText(rule.scope)})`);
      }),
    );

  for (const verb of ['enable', 'disable'] as const) {
    apiCommand(rules, `${verb} <id>`, `${verb} a rule`).action(
      run(async (ctx) => {
        const rule = await ctx.client.post<RuleDto>(`/rules/${encodeURIComponent(ctx.arg(0))}/${verb}`);
        if ((ctx.opts as { json?: boolean }).json) return ctx.out.json(rule);
        ctx.out.print(`rule ${rule.id} ${rule.enabled ? 'enabled' : 'disabled'}`);
      }),
    );
  }

  apiCommand(rules, 'backtest [id]', 'what a rule would have done over the last days of recorded usage and sessions (nothing is done)')
    .option('--days <n>', 'days of history, 1-92 (default 7)', integer(1, 92))
    .option('--file <file>', 'backtest a rule definition that is not saved (JSON file, or -)')
    .action(
      run<{ days?: number; file?: string; json?: boolean }>(async (ctx) => {
        const id = ctx.cmd.args[0];
        const query = `?days=${ctx.opts.days ?? 7}`;
        if (!id && !ctx.opts.file) throw new UsageError('give a rule id, or --file with a definition');
        const r = id
          ? await ctx.client.post<BacktestDto>(`/rules/${encodeURIComponent(id)}/backtest${query}`)
          : await ctx.client.post<BacktestDto>(`/rules/backtest${query}`, await readRule(ctx.opts.file!));
        if (ctx.opts.json) return ctx.out.json(r);
        if (r.firings.length === 0) ctx.out.note(`no firings from ${time(r.from)} to ${time(r.to)} (${r.sims} SIMs replayed)`);
        else {
          ctx.out.print(
            renderTable(r.firings, [
              { header: 'AT', value: (f) => time(f.at) },
              { header: 'SUBJECT', value: (f) => `${f.subject.kind} ${f.subject.id}` },
              { header: 'PERIOD', value: (f) => f.period },
              { header: 'STAGE', value: (f) => f.stage },
              { header: 'WOULD DO', value: (f) => f.actions.map((a) => a.type).join(', ') },
            ]),
          );
          ctx.out.note(`${r.firings.length}${r.truncated ? '+' : ''} firings from ${time(r.from)} to ${time(r.to)} (${r.sims} SIMs replayed)`);
        }
        for (const n of r.notes) ctx.out.note(`note: ${n}`);
      }),
    );

  addPaging(
    apiCommand(rules, 'firings', 'the firings log, newest first')
      .option('--rule <id>', 'of one rule')
      .option('--iccid <iccid>', 'of one SIM')
      .option('--status <status>', 'pending or done'),
    100,
  ).action(
    run<PagingOptions & { rule?: string; iccid?: string; status?: string }>(async (ctx: Context<PagingOptions & { rule?: string; iccid?: string; status?: string }>) => {
      const page = await fetchList<FiringDto>(ctx, '/rule-firings', { ruleId: ctx.opts.rule, iccid: ctx.opts.iccid, status: ctx.opts.status }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'FIRED', value: (f) => time(f.firedAt) },
          { header: 'RULE', value: (f) => f.ruleId },
          { header: 'SUBJECT', value: (f) => `${f.subject.kind} ${f.subject.id}` },
          { header: 'PERIOD', value: (f) => f.period },
          { header: 'STAGE', value: (f) => f.stage },
          { header: 'ACTIONS', value: (f) => f.actions.map((a) => `${a.type}: ${a.status}${a.detail ? ` (${a.detail})` : ''}`).join('; ') },
        ],
        'firings',
      );
    }),
  );

  apiCommand(rules, 'templates', 'the ready-made rules').action(
    run(async (ctx) => {
      const r = await ctx.client.get<{ items: { id: string; name: string; description: string }[] }>('/rule-templates');
      if ((ctx.opts as { json?: boolean }).json) return ctx.out.json(r);
      ctx.out.print(renderTable(r.items, [
        { header: 'ID', value: (x) => x.id },
        { header: 'NAME', value: (x) => x.name },
      ]));
    }),
  );
}
