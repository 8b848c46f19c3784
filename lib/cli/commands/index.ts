import type { Command } from '../registry';
import { flushExpired } from './flush-expired';
import { generateKeys } from './generate-keys';
import { generateSecret } from './generate-secret';
import { inspect } from './inspect';

/** Every subcommand, in the order `--help` lists them. Add new ones here. */
export const COMMANDS: readonly Command[] = [generateSecret, generateKeys, inspect, flushExpired];
