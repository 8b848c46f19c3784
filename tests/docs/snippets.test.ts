import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Docs that compile: every ```ts / ```typescript / ```js / ```javascript block in README.md and docs/*.md is
 * type-checked as a file of its own, in strict TypeScript, as an ES module (nodenext, as a current Node.js app
 * is), against the kit's own types ('express-simplejwt' maps to lib/index.ts) and the installed packages' types.
 * So a snippet a reader pastes compiles: its imports are there, it declares what it uses, and it uses the kit's
 * API as it is.
 *
 * README blocks stand alone. Blocks in docs/ continue the README's quick start: they may use what a host has
 * by then without defining it (`PRELUDE`: `app`, `auth`, `options`, `findUserByUsername`, `findUserById`).
 *
 * A block that is deliberately not a whole program (a line of an options object, a shape) is marked by the line
 * `<!-- snippet: fragment -->` just before its fence; it is skipped, and at most a quarter may be.
 */

/** What docs/ snippets may use without defining it: the README quick start's names, and a user type. */
const PRELUDE = `import type { Express } from 'express';
import type { Options, SimpleJwt } from 'express-simplejwt';
declare global {
  /** The host's user, as docs/ snippets use it. */
  interface AppUser { id: number; username: string; email: string; name: string; password: string; isActive: boolean; isStaff: boolean; roles: string[] }
  /** The host's Express app: const app = express(). */
  const app: Express;
  /** The kit: const auth = simpleJwt(options). */
  const auth: SimpleJwt;
  /** The quick start's options: a secret and the two look-ups. */
  const options: Options<AppUser>;
  function findUserByUsername(username: string): Promise<AppUser | null>;
  function findUserById(id: string): Promise<AppUser | null>;
}
export {};
`;

const ROOT = join(__dirname, '..', '..');
const FRAGMENT = '<!-- snippet: fragment -->';
const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

interface Snippet {
  /** `docs/keys.md:88`: where the fence opens. */
  where: string;
  language: 'ts' | 'js';
  code: string;
  fragment: boolean;
}

/** The fenced code blocks of one Markdown file, in the languages above. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== fence) end += 1;
    const language = LANGUAGES[info!.toLowerCase()];
    if (language) {
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === '') before -= 1;
      found.push({
        where: `${file}:${i + 1}`,
        language,
        code: lines
          .slice(i + 1, end)
          .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
          .join('\n'),
        fragment: before >= 0 && lines[before]!.trim() === FRAGMENT,
      });
    }
    i = end;
  }
  return found;
}

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

const snippets = documents().flatMap((file) => extractSnippets(file, readFileSync(join(ROOT, file), 'utf8')));
const checked = snippets.filter((s) => !s.fragment);

/** A compiler host that parses each file once, for both programs (the kit and the @types are most of the work). */
function cachingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const cache = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
    if (!cache.has(key)) cache.set(key, getSourceFile(fileName, languageVersion, ...rest));
    return cache.get(key);
  };
  return host;
}

/** Type-checks the snippets; returns the diagnostics as `file:line: message`. README and docs/ are two programs. */
function typeCheck(): string[] {
  // Under node_modules/, so the snippets resolve express, ioredis, @types/node... as a project beside the kit would.
  const dir = join(ROOT, 'node_modules', '.cache', 'express-simplejwt-snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'prelude.d.ts'), PRELUDE);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    types: ['node'],
    paths: {
      'express-simplejwt': [join(ROOT, 'lib', 'index.ts')],
      'express-simplejwt/testing': [join(ROOT, 'lib', 'testing', 'index.ts')],
      'express-simplejwt/openapi': [join(ROOT, 'lib', 'openapi.ts')],
    },
  };
  const host = cachingHost(options);
  const report: string[] = [];
  try {
    for (const [group, extra] of [['README.md', []], ['docs/', [join(dir, 'prelude.d.ts')]]] as const) {
      const files = new Map<string, Snippet>();
      checked
        .filter((snippet) => snippet.where.startsWith(group))
        .forEach((snippet, index) => {
          const name = join(dir, `${index}-${snippet.where.replace(/[^\w]+/g, '-')}.${snippet.language}`);
          // `export {}` makes every block a module of its own, whether or not it imports anything.
          writeFileSync(name, `${snippet.code}\nexport {};\n`);
          files.set(name, snippet);
        });
      const program = ts.createProgram([...files.keys(), ...extra], options, host);
      for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
        const snippet = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
        if (!snippet) {
          // The kit's own sources are checked by `npm run typecheck`, under their own options; the prelude must compile.
          if (diagnostic.file?.fileName.endsWith('prelude.d.ts')) report.push(`prelude: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
          continue;
        }
        const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const [file, fence] = snippet.where.split(':');
        report.push(`${file}:${Number(fence) + line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

describe('the TypeScript and JavaScript blocks of README.md and docs/', () => {
  it('are found, and few are marked as fragments', () => {
    expect(checked.length).toBeGreaterThanOrEqual(15);
    expect(snippets.filter((s) => s.fragment).length).toBeLessThanOrEqual(Math.ceil(snippets.length / 4));
  });

  it('compile in strict TypeScript against the kit, each as a module of its own', () => {
    expect(typeCheck().join('\n')).toBe('');
  }, 120_000);
});

describe('extractSnippets', () => {
  it('reads the language, the position, indented fences and the fragment marker', () => {
    const text = ['# t', '```ts', 'const a = 1;', '```', '', FRAGMENT, '', '```js', 'b;', '```', '- item', '  ```typescript', '  let c;', '  ```', '```sh', 'ls', '```'].join('\n');
    expect(extractSnippets('x.md', text)).toEqual([
      { where: 'x.md:2', language: 'ts', code: 'const a = 1;', fragment: false },
      { where: 'x.md:8', language: 'js', code: 'b;', fragment: true },
      { where: 'x.md:12', language: 'ts', code: 'let c;', fragment: false },
    ]);
  });
});
