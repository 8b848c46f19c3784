/**
 * Writes the options tables of README.md and docs/options.md from lib/config/table.ts, between the markers
 * `<!-- options:start -->` and `<!-- options:end -->`: `npm run docs:options`. tests/unit/options.test.ts fails
 * when a committed table differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTION_TABLE, type OptionSpec } from '../lib/config/table';

const ROOT = join(__dirname, '..');
const START = '<!-- options:start -->';
const END = '<!-- options:end -->';

/** The files holding a generated table, and which table each holds. */
export const TARGETS = [
  { file: 'README.md', table: 'readme' },
  { file: 'docs/options.md', table: 'full' },
] as const;

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The Markdown table: every option (`full`), or the README's short one (options with a `readme` row). */
export function renderOptionsTable(table: 'full' | 'readme'): string {
  const lines = [
    '<!-- Written by `npm run docs:options` from lib/config/table.ts: change the option there, not here. -->',
    '| Option | Type | Default | Meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [name, spec] of Object.entries(OPTION_TABLE) as [string, OptionSpec][]) {
    const short = table === 'readme' ? spec.readme : undefined;
    if (table === 'readme' && !short) continue;
    const row = [`\`${name}\``, short?.type ?? spec.type, short?.default ?? spec.default, short?.doc ?? spec.doc];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** `text` with the part between the markers replaced by the table; throws when the markers are missing. */
export function withOptionsTable(text: string, table: 'full' | 'readme', file = 'the file'): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${file} has no ${START} ... ${END} markers`);
  return `${text.slice(0, start + START.length)}\n${renderOptionsTable(table)}\n${text.slice(end)}`;
}

if (require.main === module) {
  for (const { file, table } of TARGETS) {
    const path = join(ROOT, file);
    const before = readFileSync(path, 'utf8');
    const after = withOptionsTable(before, table, file);
    if (after !== before) writeFileSync(path, after);
    console.log(`${file}: ${after === before ? 'up to date' : 'table written'}`);
  }
}
