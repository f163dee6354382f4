import type { Command } from 'commander';

/** Commands that talk to a running server through the REST API. */
export function registerApiCommands(_program: Command): void {}
