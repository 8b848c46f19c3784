import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { isOptionName, OPTION_TABLE } from '../../lib/config/table';
import * as errors from '../../lib/errors';
import { ERROR_STATUS } from '../../lib/errors';

/**
 * The README is part of what ships: these tests fail when an option, an error code or an export is added
 * without its documentation.
 */

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const OPTIONS_DOC = readFileSync(join(ROOT, 'docs', 'options.md'), 'utf8');

/** The lines of the section under `## <title>` (or `# <title>`), up to the next heading of that level. */
function section(title: string, text = README): string[] {
  const lines = text.split('\n');
  const level = lines.some((line) => line.trim() === `## ${title}`) ? '## ' : '# ';
  const start = lines.findIndex((line) => line.trim() === `${level}${title}`);
  if (start === -1) throw new Error(`no "${level}${title}" section`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith(level));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The cells of each row of the first Markdown table in these lines (header and separator rows left out). */
function tableRows(lines: string[]): string[][] {
  const rows = lines.filter((line) => line.startsWith('|')).map((line) =>
    line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.replace(/\\\|/g, '|').trim()),
  );
  return rows.slice(2);
}

/** The `backticked` names in a cell. */
const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('docs/options.md: the options table', () => {
  const documented = new Set(tableRows(section('Options', OPTIONS_DOC)).flatMap((row) => codeSpans(row[0] ?? '')));

  it('has a row for every key of Options', () => {
    const missing = Object.keys(OPTION_TABLE).filter((key) => !documented.has(key));
    expect(missing).toEqual([]);
  });

  it('has no row for an option that does not exist', () => {
    expect([...documented].filter((name) => !isOptionName(name))).toEqual([]);
  });

  it("README's short table names only real options", () => {
    const short = tableRows(section('Options')).flatMap((row) => codeSpans(row[0] ?? ''));
    expect(short.length).toBeGreaterThan(10);
    expect(short.filter((name) => !isOptionName(name))).toEqual([]);
  });

  it('gives each row a type, a default and a meaning', () => {
    for (const row of [...tableRows(section('Options', OPTIONS_DOC)), ...tableRows(section('Options'))]) {
      expect({ option: row[0], cells: row.length, empty: row.filter((cell) => cell === '').length }).toEqual({ option: row[0], cells: 4, empty: 0 });
    }
  });
});

describe('README: the error table', () => {
  const rows = tableRows(section('Errors'));
  /** code → the statuses the README gives it. */
  const documented = new Map<string, Set<number>>();
  for (const row of rows) {
    for (const code of codeSpans(row[0] ?? '')) {
      const statuses = documented.get(code) ?? new Set<number>();
      statuses.add(Number(row[1]));
      documented.set(code, statuses);
    }
  }

  /**
   * Every code the kit can answer with, read from lib/: each `new AuthError('<code>'` and each subclass's
   * `super('<code>'`, with the status the error carries. (Built from what lib/ throws, not from ERRORS' keys,
   * so a documented code nothing produces is caught.)
   */
  const produced = new Map<string, number>();
  for (const file of libFiles(join(__dirname, '../../lib'))) {
    for (const [, code] of readFileSync(file, 'utf8').matchAll(/(?:new AuthError|super)\(\s*'([a-z_]+)'/g)) {
      produced.set(code!, new errors.AuthError(code as errors.ErrorCode).status);
    }
  }
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.AuthError)) continue;
    const Class = value as unknown as new () => errors.AuthError;
    const err = new Class();
    expect({ name, code: err.code, status: err.status }).toEqual({ name, code: expect.stringMatching(/^[a-z_]+$/), status: produced.get(err.code) });
  }

  it('found the error codes, each with the status of the table', () => {
    expect(produced.size).toBeGreaterThan(15);
    expect(produced.get('token_not_valid')).toBe(401);
    for (const [code, spec] of Object.entries(errors.ERRORS)) expect({ code, status: produced.get(code) }).toEqual({ code, status: spec.status });
  });

  it('has a row, with the right status, for the code of every AuthError subclass', () => {
    const missing = [...produced].filter(([code, status]) => !documented.get(code)?.has(status)).map(([code, status]) => `${code} (${status})`);
    expect(missing).toEqual([]);
  });

  it('has a row, with its status, for every code of ERROR_STATUS, the one table the error classes read', () => {
    const missing = Object.entries(ERROR_STATUS)
      .filter(([code, status]) => !documented.get(code)?.has(status))
      .map(([code, status]) => `${code} (${status})`);
    expect(missing).toEqual([]);
    expect([...documented.keys()].filter((code) => !(code in ERROR_STATUS))).toEqual([]);
  });

  it('lists no code the kit does not produce', () => {
    expect([...documented.keys()].filter((code) => !produced.has(code))).toEqual([]);
  });
});

describe('JSDoc: every export of lib/index.ts has an @example', () => {
  it('in the declarations the compiler finds for it', () => {
    const entry = join(ROOT, 'lib', 'index.ts');
    const program = ts.createProgram([entry], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const exported = checker.getExportsOfModule(moduleSymbol);
    expect(exported.length).toBeGreaterThan(40);
    const missing: string[] = [];
    for (const symbol of exported) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      const hasExample = declarations.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'example'));
      if (!hasExample) {
        const where = declarations[0] ? relative(ROOT, declarations[0].getSourceFile().fileName) : '?';
        missing.push(`${symbol.name} (${where})`);
      }
    }
    expect(missing).toEqual([]);
  }, 60_000);
});

/** Every TypeScript file under `dir`. */
function libFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? libFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}
