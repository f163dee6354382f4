/** Shared plumbing of the API commands: global options, the action wrapper, exit codes, option parsers. */
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient, ApiError, ConnectionError, type Page, type Query } from './api-client.ts';
import { type Column, type Output, processOutput, renderTable } from './output.ts';

/** Exit codes of the command line. */
export const EXIT = {
  ok: 0,
  /** The API answered with an error, the server could not be reached, or a job failed. */
  error: 1,
  /** Bad command-line usage or unusable input; nothing was sent. */
  usage: 2,
  /** A job finished but some of its rows or SIMs failed. */
  partial: 3,
  /** Interrupted while waiting (Ctrl-C); the job goes on on the server. */
  interrupted: 130,
} as const;

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Wrong usage found after commander parsed the line: exits 2 like commander's own errors. */
export class UsageError extends Error {}

/** A failure of the command that is not an API answer (unreadable file, missing group…). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface GlobalOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
}

export interface Context<O> {
  cmd: Command;
  opts: O & GlobalOptions;
  client: ApiClient;
  out: Output;
  /** The positional argument at `index` as commander parsed it. */
  arg(index: number): string;
  /** A variadic positional argument. */
  args(index: number): string[];
}

/** Adds `--url` and `--api-key` to the program; subcommands inherit them. */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option('--url <url>', 'address of the Meridian server (API commands)').env('MERIDIAN_URL').default(DEFAULT_URL))
    .addOption(new Option('--api-key <key>', 'API key mk_… to call the server with (API commands)').env('MERIDIAN_API_KEY'))
    .configureHelp({ showGlobalOptions: true });
}

/**
 * Makes commander's usage errors exit with 2 (commander itself uses 1), so scripts can tell
 * "you called it wrong" from "the server said no". Applies to `command` and all its subcommands.
 */
export function exitTwoOnUsageErrors(command: Command): void {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT.usage));
  for (const sub of command.commands) exitTwoOnUsageErrors(sub);
}

/** A subcommand with a `--json` option. */
export function apiCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return parent.command(nameAndArgs).description(description).option('--json', 'print the raw JSON answer of the API (for scripts)');
}

function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL; expected something like ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// URL, not ${raw}`);
  return url.toString();
}

/** Wraps a command action: builds the client, maps errors to messages and exit codes. */
export function run<O = object>(fn: (ctx: Context<O>) => Promise<number | void>): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    const cmd = params.at(-1) as Command;
    const out = processOutput();
    const opts = cmd.optsWithGlobals<O & GlobalOptions>();
    const processed = cmd.processedArgs as unknown[];
    try {
      const client = new ApiClient({ baseUrl: baseUrl(opts.url), apiKey: opts.apiKey });
      const ctx: Context<O> = {
        cmd,
        opts,
        client,
        out,
        arg: (i) => String(processed[i]),
        args: (i) => (Array.isArray(processed[i]) ? (processed[i] as unknown[]).map(String) : []),
      };
      const code = await fn(ctx);
      if (code) process.exitCode = code;
    } catch (e) {
      out.endProgress();
      if (e instanceof UsageError) {
        out.note(`error: ${e.message}`);
        out.note(`(see: ${commandPath(cmd)} --help)`);
        process.exitCode = EXIT.usage;
      } else {
        process.exitCode = reportError(e, out, opts);
      }
    }
  };
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function reportError(e: unknown, out: Output, opts: GlobalOptions): number {
  if (e instanceof ApiError) {
    out.note(`error: ${e.code}: ${e.detail}`);
    if (e.status === 401 && !opts.apiKey) out.note('hint: pass --api-key or set MERIDIAN_API_KEY');
    return EXIT.error;
  }
  if (e instanceof ConnectionError) {
    out.note(`error: ${e.message}`);
    out.note('hint: is the server running (meridian start)? Point the command at it with --url or MERIDIAN_URL.');
    return EXIT.error;
  }
  if (e instanceof CliError) {
    out.note(`error: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    return EXIT.error;
  }
  out.note(`error: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT.error;
}

// --- option parsers -------------------------------------------------------------------------

/** Parses an integer option within bounds. */
export const integer =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };

/** A repeatable option whose values may also be comma-separated: `--label a --label b,c`. */
export const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

/** A repeatable comma-separated option restricted to `allowed`. */
export const collectOneOf =
  (allowed: readonly string[]) =>
  (value: string, previous: string[] = []): string[] => {
    const values = collect(value, previous);
    const bad = values.filter((v) => !allowed.includes(v));
    if (bad.length) throw new InvalidArgumentError(`${bad.join(', ')} not allowed; choose from ${allowed.join(', ')}`);
    return values;
  };

/** A repeatable `name=value` option collected into a record. */
export const keyValue = (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected name=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1) };
};

/** A repeatable option collected into a list as given. */
export const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];

// --- input ----------------------------------------------------------------------------------

/** The text of a file, or of standard input for `-`. */
export async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliError(`cannot read ${file}: ${why}`);
  }
}

// --- lists ----------------------------------------------------------------------------------

export interface PagingOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** Adds `--limit`, `--cursor` and `--all` to a list command. */
export function addPaging(cmd: Command, defaultLimit: number): Command {
  return cmd
    .option('--limit <n>', `page size, 1-1000 (default ${defaultLimit})`, integer(1, 1000))
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .option('--all', 'follow the cursors and fetch every page');
}

/** One page, or every page with `--all` (as one page without a next cursor). */
export async function fetchList<T>(ctx: Context<PagingOptions>, path: string, query: Query, defaultLimit: number): Promise<Page<T>> {
  const { limit, cursor, all } = ctx.opts;
  if (all) return { items: await ctx.client.all<T>(path, { ...query, cursor }, limit ?? 1000), nextCursor: null };
  return ctx.client.get<Page<T>>(path, { ...query, limit: limit ?? defaultLimit, cursor });
}

/** Prints a list: raw JSON with `--json`, else a table and a hint when more pages exist. */
export function printList<T>(ctx: Context<PagingOptions>, page: Page<T>, columns: readonly Column<T>[], noun: string): void {
  if (ctx.opts.json) return ctx.out.json(page);
  if (page.items.length === 0) ctx.out.note(`no ${noun} found`);
  else ctx.out.print(renderTable(page.items, columns));
  if (page.nextCursor !== null) ctx.out.note(`more ${noun}: repeat with --cursor ${page.nextCursor}, or use --all`);
}
