/** `meridian accounts|groups|users|api-keys|whoami`: administration through the REST API. */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import { ROLES } from '../modules/accounts/account.ts';
import { addPaging, apiCommand, type Context, fetchList, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { renderFields, time } from './output.ts';
import { resolveGroupId } from './sim-commands.ts';

interface AccountDto {
  id: string;
  parentId: string | null;
  kind: string;
  name: string;
  timezone: string;
  createdAt: string;
}

interface GroupDto {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  createdAt: string;
}

interface UserDto {
  id: string;
  accountId: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

interface ApiKeyDto {
  id: string;
  accountId: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const path = (collection: string, id: string, rest = ''): string => `/${collection}/${encodeURIComponent(id)}${rest}`;

/** Prints one object: raw JSON with `--json`, else its fields. */
function printOne<T>(ctx: Context<object>, value: T, fields: (v: T) => [string, string | number | boolean | null | undefined][]): void {
  if (ctx.opts.json) ctx.out.json(value);
  else ctx.out.print(renderFields(fields(value)));
}

const accountFields = (a: AccountDto): [string, string | null | undefined][] => [
  ['ID', a.id],
  ['Kind', a.kind],
  ['Name', a.name],
  ['Parent', a.parentId],
  ['Time zone', a.timezone],
  ['Created at', time(a.createdAt)],
];

const userFields = (u: UserDto): [string, string | boolean | undefined][] => [
  ['ID', u.id],
  ['Account', u.accountId],
  ['E-mail', u.email],
  ['Name', u.name],
  ['Role', u.role],
  ['Disabled', u.disabled],
  ['Created at', time(u.createdAt)],
];

const keyFields = (k: ApiKeyDto): [string, string | null | undefined][] => [
  ['ID', k.id],
  ['Account', k.accountId],
  ['Name', k.name],
  ['Role', k.role],
  ['Prefix', k.prefix],
  ['Created by', k.createdBy],
  ['Created at', time(k.createdAt)],
  ['Expires at', time(k.expiresAt)],
  ['Revoked at', time(k.revokedAt)],
  ['Last used at', time(k.lastUsedAt)],
];

/** A secret shown once: the explanation goes to stderr, the secret alone to stdout (so `$(…)` captures just it). */
function printSecret(ctx: Context<object>, what: string, secret: string): void {
  ctx.out.note(`${what} (shown only once; store it now, it cannot be retrieved later):`);
  ctx.out.print(`${secret}\n`);
}

function registerAccounts(program: Command): void {
  const accounts = program.command('accounts').description('the account tree: operator, resellers, enterprise customers');

  addPaging(
    apiCommand(accounts, 'list', "list the API key's account and its descendants")
      .option('--parent <id>', 'only the children of this account')
      .addOption(new Option('--kind <kind>', 'only accounts of this kind').choices(['operator', 'reseller', 'enterprise'])),
    100,
  ).action(
    run<PagingOptions & { parent?: string; kind?: string }>(async (ctx) => {
      const page = await fetchList<AccountDto>(ctx, '/accounts', { parentId: ctx.opts.parent, kind: ctx.opts.kind }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (a) => a.id },
          { header: 'KIND', value: (a) => a.kind },
          { header: 'NAME', value: (a) => a.name },
          { header: 'PARENT', value: (a) => a.parentId },
          { header: 'TIME ZONE', value: (a) => a.timezone },
          { header: 'CREATED', value: (a) => time(a.createdAt) },
        ],
        'accounts',
      );
    }),
  );

  apiCommand(accounts, 'show', 'show one account')
    .argument('<id>', 'account id')
    .action(run(async (ctx) => printOne(ctx, await ctx.client.get<AccountDto>(path('accounts', ctx.arg(0))), accountFields)));

  apiCommand(accounts, 'create', 'create a reseller or enterprise account')
    .addOption(new Option('--kind <kind>', 'kind of account').choices(['reseller', 'enterprise']).makeOptionMandatory())
    .requiredOption('--name <name>', 'name of the account')
    .option('--parent <id>', "parent account (default: the API key's account)")
    .option('--timezone <tz>', "IANA time zone for billing cycles, e.g. Asia/Shanghai (default: the parent's)")
    .action(
      run<{ kind: string; name: string; parent?: string; timezone?: string }>(async (ctx) => {
        const { kind, name, parent, timezone } = ctx.opts;
        printOne(ctx, await ctx.client.post<AccountDto>('/accounts', { kind, name, parentId: parent, timezone }), accountFields);
      }),
    );

  apiCommand(accounts, 'update', 'rename an account or change its time zone')
    .argument('<id>', 'account id')
    .option('--name <name>', 'new name')
    .option('--timezone <tz>', 'new IANA time zone')
    .action(
      run<{ name?: string; timezone?: string }>(async (ctx) => {
        const { name, timezone } = ctx.opts;
        if (name === undefined && timezone === undefined) throw new UsageError('nothing to change; give --name or --timezone');
        printOne(ctx, await ctx.client.patch<AccountDto>(path('accounts', ctx.arg(0)), { name, timezone }), accountFields);
      }),
    );

  apiCommand(accounts, 'delete', 'delete an account that has no child accounts and no SIMs')
    .argument('<id>', 'account id')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(path('accounts', ctx.arg(0)));
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), deleted: true });
        else ctx.out.print(`account ${ctx.arg(0)} deleted\n`);
      }),
    );
}

function registerGroups(program: Command): void {
  const groups = program.command('groups').description('SIM groups (分组) of an account');
  const columns = [
    { header: 'ID', value: (g: GroupDto) => g.id },
    { header: 'ACCOUNT', value: (g: GroupDto) => g.accountId },
    { header: 'NAME', value: (g: GroupDto) => g.name },
    { header: 'DESCRIPTION', value: (g: GroupDto) => g.description },
  ];
  const fields = (g: GroupDto): [string, string | null | undefined][] => [
    ['ID', g.id],
    ['Account', g.accountId],
    ['Name', g.name],
    ['Description', g.description],
    ['Created at', time(g.createdAt)],
  ];

  addPaging(apiCommand(groups, 'list', 'list the groups visible to the API key').option('--account <id>', 'only groups of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      printList(ctx, await fetchList<GroupDto>(ctx, '/groups', { accountId: ctx.opts.account }, 100), columns, 'groups');
    }),
  );

  apiCommand(groups, 'create', 'create a group')
    .requiredOption('--name <name>', 'name, unique within the account')
    .option('--account <id>', "account of the group (default: the API key's account)")
    .option('--description <text>', 'what the group is for')
    .action(
      run<{ name: string; account?: string; description?: string }>(async (ctx) => {
        const { name, account, description } = ctx.opts;
        printOne(ctx, await ctx.client.post<GroupDto>('/groups', { name, accountId: account, description }), fields);
      }),
    );

  apiCommand(groups, 'update', 'rename a group or change its description')
    .argument('<group>', 'group id or name')
    .option('--account <id>', 'account of the group, when its name is used in several accounts')
    .option('--name <name>', 'new name')
    .option('--description <text>', "new description ('' clears it)")
    .action(
      run<{ account?: string; name?: string; description?: string }>(async (ctx) => {
        const { account, name, description } = ctx.opts;
        if (name === undefined && description === undefined) throw new UsageError('nothing to change; give --name or --description');
        const id = await resolveGroupId(ctx.client, ctx.arg(0), account);
        const body = { name, description: description === '' ? null : description };
        printOne(ctx, await ctx.client.patch<GroupDto>(path('groups', id), body), fields);
      }),
    );

  apiCommand(groups, 'delete', 'delete a group; its SIMs are left without a group')
    .argument('<group>', 'group id or name')
    .option('--account <id>', 'account of the group, when its name is used in several accounts')
    .action(
      run<{ account?: string }>(async (ctx) => {
        const id = await resolveGroupId(ctx.client, ctx.arg(0), ctx.opts.account);
        await ctx.client.delete(path('groups', id));
        if (ctx.opts.json) ctx.out.json({ id, deleted: true });
        else ctx.out.print(`group ${id} deleted\n`);
      }),
    );
}

/** The first line of standard input (the rest is not waited for). */
async function readPasswordFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.trim();
    return '';
  } finally {
    lines.close();
  }
}

function registerUsers(program: Command): void {
  const users = program.command('users').description('people who log in to the portal');

  addPaging(apiCommand(users, 'list', 'list the users visible to the API key').option('--account <id>', 'only users of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      const page = await fetchList<UserDto>(ctx, '/users', { accountId: ctx.opts.account }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (u) => u.id },
          { header: 'ACCOUNT', value: (u) => u.accountId },
          { header: 'E-MAIL', value: (u) => u.email },
          { header: 'NAME', value: (u) => u.name },
          { header: 'ROLE', value: (u) => u.role },
          { header: 'DISABLED', value: (u) => u.disabled },
        ],
        'users',
      );
    }),
  );

  apiCommand(users, 'show', 'show one user')
    .argument('<id>', 'user id')
    .action(run(async (ctx) => printOne(ctx, await ctx.client.get<UserDto>(path('users', ctx.arg(0))), userFields)));

  apiCommand(users, 'create', 'create a user; without --password-stdin a password is generated and shown once')
    .requiredOption('--email <email>', 'e-mail address, used to log in')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
    .option('--account <id>', "account of the user (default: the API key's account)")
    .option('--password-stdin', 'read the password (at least 12 characters) from the first line of standard input')
    .action(
      run<{ email: string; name: string; role: string; account?: string; passwordStdin?: boolean }>(async (ctx) => {
        const { email, name, role, account, passwordStdin } = ctx.opts;
        const password = passwordStdin ? await readPasswordFromStdin() : randomBytes(15).toString('base64url');
        if (password.length < 12) throw new UsageError('the password must be at least 12 characters');
        const user = await ctx.client.post<UserDto>('/users', { email, name, role, accountId: account, password });
        if (ctx.opts.json) return ctx.out.json(passwordStdin ? user : { ...user, password });
        ctx.out.note(`user ${user.id} created: ${user.email}, role ${user.role}, account ${user.accountId}`);
        if (!passwordStdin) printSecret(ctx, 'Generated password', password);
        else ctx.out.print(`${user.id}\n`);
      }),
    );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    apiCommand(users, verb, disabled ? 'disable a user: it can no longer log in' : 'enable a disabled user again')
      .argument('<id>', 'user id')
      .action(
        run(async (ctx) => {
          const user = await ctx.client.patch<UserDto>(path('users', ctx.arg(0)), { disabled });
          if (ctx.opts.json) return ctx.out.json(user);
          ctx.out.print(`user ${user.id} (${user.email}) ${disabled ? 'disabled' : 'enabled'}\n`);
        }),
      );
  }
}

function registerApiKeys(program: Command): void {
  const keys = program.command('api-keys').description('API keys for scripts and integrations');

  addPaging(apiCommand(keys, 'list', 'list API keys (never their secrets)').option('--account <id>', 'only keys of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      const page = await fetchList<ApiKeyDto>(ctx, '/api-keys', { accountId: ctx.opts.account }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (k) => k.id },
          { header: 'ACCOUNT', value: (k) => k.accountId },
          { header: 'NAME', value: (k) => k.name },
          { header: 'ROLE', value: (k) => k.role },
          { header: 'PREFIX', value: (k) => k.prefix },
          { header: 'EXPIRES', value: (k) => time(k.expiresAt) },
          { header: 'REVOKED', value: (k) => time(k.revokedAt) },
          { header: 'LAST USED', value: (k) => time(k.lastUsedAt) },
        ],
        'API keys',
      );
    }),
  );

  apiCommand(keys, 'show', 'show one API key (never its secret)')
    .argument('<id>', 'API key id (key_…)')
    .action(run(async (ctx) => printOne(ctx, await ctx.client.get<ApiKeyDto>(path('api-keys', ctx.arg(0))), keyFields)));

  apiCommand(keys, 'create', 'create an API key and print its secret (once)')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--account <id>', "account of the key (default: the API key's account)")
    .addOption(new Option('--role <role>', 'role (default: the admin role of the account kind)').choices(ROLES))
    .option('--expires-at <time>', 'expiry as an RFC 3339 time, e.g. 2027-01-01T00:00:00Z')
    .addHelpText('after', '\nThe secret goes to stdout alone, everything else to stderr:\n  KEY=$(meridian api-keys create --name ci --role read_only)')
    .action(
      run<{ name: string; account?: string; role?: string; expiresAt?: string }>(async (ctx) => {
        const { name, account, role, expiresAt } = ctx.opts;
        let expires: string | undefined;
        if (expiresAt !== undefined) {
          const t = new Date(expiresAt);
          if (Number.isNaN(t.getTime())) throw new UsageError(`--expires-at ${JSON.stringify(expiresAt)} is not a time; use e.g. 2027-01-01T00:00:00Z`);
          expires = t.toISOString();
        }
        const key = await ctx.client.post<ApiKeyDto & { secret: string }>('/api-keys', { name, accountId: account, role, expiresAt: expires });
        if (ctx.opts.json) return ctx.out.json(key);
        ctx.out.note(`API key ${key.id} "${key.name}" created: role ${key.role}, account ${key.accountId}${key.expiresAt ? `, expires ${time(key.expiresAt)}` : ''}`);
        printSecret(ctx, 'Secret', key.secret);
      }),
    );

  apiCommand(keys, 'revoke', 'revoke an API key at once')
    .argument('<id>', 'API key id (key_…)')
    .action(
      run(async (ctx) => {
        const key = await ctx.client.post<ApiKeyDto>(path('api-keys', ctx.arg(0), '/revoke'));
        if (ctx.opts.json) return ctx.out.json(key);
        ctx.out.print(`API key ${key.id} "${key.name}" revoked at ${time(key.revokedAt)}\n`);
      }),
    );
}

export function registerAdminCommands(program: Command): void {
  registerAccounts(program);
  registerGroups(program);
  registerUsers(program);
  registerApiKeys(program);

  apiCommand(program, 'whoami', 'show who the API key acts as')
    .action(
      run(async (ctx) => {
        const me = await ctx.client.get<{ actor: string; accountId: string; accountKind: string; role: string; source: string }>('/auth/me');
        printOne(ctx, me, (m) => [
          ['Actor', m.actor],
          ['Account', m.accountId],
          ['Account kind', m.accountKind],
          ['Role', m.role],
          ['Server', ctx.client.baseUrl],
        ]);
      }),
    );
}
