import { buildProgram } from './program.ts';

// NOTE: `meridian … | head` closes the pipe early; that is not an error of the command.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

await buildProgram().parseAsync(process.argv);
