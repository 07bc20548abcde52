// The docs match the code: every error code a function can answer with is in the README,
// docs/schema.md lists every migration and pg_cron job, and the README stands on its own.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/stack/config.ts';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const schemaDoc = readFileSync(path.join(ROOT, 'docs/schema.md'), 'utf8');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(ext))
    .map((d) => path.join(d.parentPath, d.name));
}

/** Error codes written in the functions' source: HttpError(status, 'code'), { code: 'x' }, [status, 'code']. */
function errorCodes(): string[] {
  const codes = new Set<string>();
  for (const file of filesUnder(path.join(ROOT, 'supabase/functions'), '.ts')) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/HttpError\(\s*\d{3},\s*'([a-z_]+)'/g)) codes.add(m[1]);
    for (const m of src.matchAll(/\bcode: '([a-z_]+)'/g)) codes.add(m[1]);
    for (const m of src.matchAll(/\[\d{3}, '([a-z_]+)'\]/g)) codes.add(m[1]);
  }
  codes.delete('custom'); // zod's issue kind, not an answer
  return [...codes].sort();
}

describe('README and docs match the code', () => {
  it('finds the error codes in the source (the scan itself works)', () => {
    expect(errorCodes()).toEqual(
      expect.arrayContaining(['payload_too_large', 'database_unavailable', 'invalid_api_key']),
    );
  });

  it.each(errorCodes())('the README lists error code %s', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });

  it.each(readdirSync(path.join(ROOT, 'supabase/migrations')).filter((f) => f.endsWith('.sql')))(
    'docs/schema.md lists migration %s',
    (file) => expect(schemaDoc).toContain(file),
  );

  it('docs/schema.md lists every pg_cron job the migrations schedule', () => {
    const jobs = filesUnder(path.join(ROOT, 'supabase/migrations'), '.sql')
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/cron\.schedule\(\s*'([^']+)'/g)].map((m) => m[1]));
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(schemaDoc, job).toContain(`\`${job}\``);
  });

  it('the README links only to files in the repository and cites nothing outside it', () => {
    for (const m of readme.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
      expect(existsSync(path.join(ROOT, m[1])), m[1]).toBe(true);
    }
    // `seed` in backticks is the OpenAI request parameter, not the project's seed documents.
    expect(readme).not.toMatch(/DESIGN\.md|\/work\/|(?<!`)\bseed\b(?!`| \()/i);
  });
});
