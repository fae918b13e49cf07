import type { ParseArgsConfig } from 'node:util';
import { PiImageError } from '../lib/core/errors';
import type { Logger } from '../lib/core/logger';

export interface CommandContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  logger: Logger;
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  /** Present when a person is at a terminal (standard input and error are TTYs): asks a question, returns the line typed. */
  terminal?: { ask(question: string): Promise<string> } | undefined;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(context: CommandContext): Promise<number>;
}

export function usageError(message: string): PiImageError {
  return new PiImageError('USAGE', message);
}
