// Functions deploy with their own deno.json; the local stack resolves the same packages from
// node_modules. Both must name exactly the versions package.json pins, or deploys drift.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/stack/config.ts';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };
const fnDir = path.join(ROOT, 'supabase/functions');
const configs = [
  path.join(ROOT, 'deno.json'),
  ...readdirSync(fnDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && existsSync(path.join(fnDir, d.name, 'index.ts')))
    .map((d) => path.join(fnDir, d.name, 'deno.json')),
];

describe('dependency pins', () => {
  it('every deployable function has its own deno.json', () => {
    for (const c of configs) expect(existsSync(c), c).toBe(true);
  });

  it.each(configs.filter(existsSync))('%s maps bare imports to the npm versions package.json pins', (config) => {
    const { imports } = JSON.parse(readFileSync(config, 'utf8')) as { imports: Record<string, string> };
    expect(Object.keys(imports).length).toBeGreaterThan(0);
    for (const [name, target] of Object.entries(imports)) {
      expect(target, name).toBe(`npm:${name}@${pinned[name]}`);
    }
  });

  it('package.json pins exact versions', () => {
    for (const [name, version] of Object.entries(pinned)) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
