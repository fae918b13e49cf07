/**
 * The pi-image command line: parses argv, runs one command, returns the exit
 * code (0 ok, 1 failure, 2 bad usage or bad input). Nothing here knows GitHub.
 */
import { parseArgs } from 'node:util';
import { isStopping } from '../lib/core/cleanup';
import { describeError, exitCodeFor, EXIT_FAILURE, EXIT_USER_ERROR, PiImageError } from '../lib/core/errors';
import { scrubSecrets } from '../lib/core/secrets';
import { printable } from '../lib/core/terminal-text';
import { TOOL_VERSION } from '../lib/version';
import type { CliCommand, CommandContext } from './command';
import { buildCommand } from './commands/build-command';
import { customiseCommand } from './commands/customise-command';
import { exportCommand } from './commands/export-command';
import { flashCommand } from './commands/flash-command';
import { smokeTestCommand } from './commands/smoke-test-command';
import { imagerFeedCommand } from './commands/imager-feed-command';
import { inspectCommand } from './commands/inspect-command';
import { netbootCommand } from './commands/netboot-command';
import { packageCommand } from './commands/package-command';
import { publishCommand } from './commands/publish-command';
import { promoteCommand } from './commands/promote-command';
import { pullCommand } from './commands/pull-command';
import { signCommand } from './commands/sign-command';
import { verifyCommand } from './commands/verify-command';
import { stderrLogger } from './stderr-logger';

export const COMMANDS: readonly CliCommand[] = [
  buildCommand,
  exportCommand,
  packageCommand,
  smokeTestCommand,
  signCommand,
  publishCommand,
  pullCommand,
  promoteCommand,
  verifyCommand,
  imagerFeedCommand,
  netbootCommand,
  inspectCommand,
  customiseCommand,
  flashCommand,
];

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  terminal?: CommandContext['terminal'];
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `pi-image ${TOOL_VERSION}: release Raspberry Pi OS images built with pi-gen

Usage: pi-image <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'pi-image <command> --help' for a command's options.
Global options: --verbose (show commands run), --quiet (errors only), --version, --help.
Exit codes: 0 done, 1 failed, 2 bad usage or bad input.
`;
}

/** Everything the CLI prints passes here: secrets scrubbed, control characters shown as escapes. */
function guarded(io: CliIo): CliIo {
  return { ...io, stdout: (t) => io.stdout(printable(scrubSecrets(t))), stderr: (t) => io.stderr(printable(scrubSecrets(t))) };
}

export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  const io = guarded(rawIo);
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout(topic ? `Usage: ${topic.usage}\n\n${topic.help}\n` : mainHelp());
    return first === undefined ? EXIT_USER_ERROR : 0;
  }
  if (first === '--version' || first === '-V') {
    io.stdout(`${TOOL_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr(`pi-image: unknown command "${first}"\n\n${mainHelp()}`);
    return EXIT_USER_ERROR;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: {
        ...command.options,
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean', short: 'v' },
        quiet: { type: 'boolean', short: 'q' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(`Usage: ${command.usage}\n\n${command.help}\n`);
      return 0;
    }
    const logger = stderrLogger({ verbose: values.verbose === true, quiet: values.quiet === true, write: io.stderr });
    return await command.run({ values, positionals, logger, env: io.env, stdout: io.stdout, terminal: io.terminal });
  } catch (error) {
    const usage = error instanceof PiImageError && error.code === 'USAGE';
    const parse = error instanceof TypeError && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (usage || parse) {
      io.stderr(`pi-image ${command.name}: ${(error as Error).message}\nUsage: ${command.usage}\nRun 'pi-image ${command.name} --help' for options.\n`);
      return EXIT_USER_ERROR;
    }
    // Stopped by a signal: the failure is the stop's doing, and the handler has said so.
    if (isStopping()) return EXIT_FAILURE;
    io.stderr(`pi-image ${command.name}: error: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
