import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The documentation ships with the package and is read on npm and in the repository: every relative link must
 * reach a file of the repository and, with `#anchor`, a heading of that file.
 */

const ROOT = join(__dirname, '..', '..');
const DOCS = join(ROOT, 'docs');
const files = [
  join(ROOT, 'README.md'),
  join(ROOT, 'SECURITY.md'),
  join(ROOT, 'CHANGELOG.md'),
  ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name)),
];

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1]!)));
}

/** Links outside code blocks: `[text](target)`. */
function linksOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('documentation links', () => {
  it.each(files.map((file) => [relative(ROOT, file), file]))('%s: every relative link resolves inside the repository', (_name, file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : resolve(dirname(file), path);
      if (!target.startsWith(ROOT + '/') || !existsSync(target)) {
        broken.push(link);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(link);
    }
    expect(broken).toEqual([]);
  });

  it('no shipped document or source file cites the development-only wire specification', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
      );
    for (const file of [...files, ...sources(join(ROOT, 'lib'))]) expect({ file: relative(ROOT, file), cites: /WIRE\.md|shared\/spec/.test(readFileSync(file, 'utf8')) }).toEqual({ file: relative(ROOT, file), cites: false });
  });
});
