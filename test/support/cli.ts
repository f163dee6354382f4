import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';

const BIN = fileURLToPath(new URL('../../bin/meridian.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real server on PGlite in memory, for the CLI to talk to, with `key` as the operator admin's API key and a scratch folder. */
export async function startCliServer(key: string, env: Record<string, string> = {}): Promise<{ server: RunningServer; dir: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    MERIDIAN_API_KEY: key,
    MERIDIAN_ADMIN_PASSWORD: 'correct horse battery staple',
    RATE_LIMIT_PER_SECOND: '10000',
    RATE_LIMIT_BURST: '10000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const server = await startServer(config, { print: () => {} });
  return {
    server,
    dir,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The CLI server of a describe block and the CLI run against it with the operator's key. */
export interface CliHarness {
  readonly server: RunningServer;
  /** A scratch folder, removed with the server. */
  readonly dir: string;
  cli: (args: string[], input?: string) => Promise<CliRun>;
  /** The JSON a `--json` run printed. */
  json: (run: CliRun) => ReturnType<typeof JSON.parse>;
}

/** Starts a CLI server before the tests of the calling describe block and closes it after them. */
export function useCliServer(key: string, env: Record<string, string> = {}): CliHarness {
  let started: Awaited<ReturnType<typeof startCliServer>> | undefined;
  const running = () => {
    if (!started) throw new Error('the CLI server is not started yet (use it inside tests or later hooks)');
    return started;
  };
  beforeAll(async () => {
    started = await startCliServer(key, env);
  });
  afterAll(() => started?.close());
  return {
    get server() {
      return running().server;
    },
    get dir() {
      return running().dir;
    },
    cli: (args, input = '') => runCli(args, { url: running().server.url, key, input }),
    json: (run) => JSON.parse(run.stdout),
  };
}

/**
 * Runs `node bin/meridian.js …` as a child process (never synchronously: the server lives in this process) against
 * `url` with API key `key` (null: none in the environment).
 */
export function runCli(args: string[], options: { url: string; key: string | null; input?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MERIDIAN_URL: options.url };
    if (options.key === null) delete env.MERIDIAN_API_KEY;
    else env.MERIDIAN_API_KEY = options.key;
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
