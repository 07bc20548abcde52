// Functions deploy with their own deno.json and deno.lock; their dependencies are pinned for
// Deno on their own (not held back by the Node toolkit's package.json). All configs must name
// the same exact versions, and each lockfile must hold what its deno.json names, so that
// `deno check --frozen`, the local functions host and `supabase functions deploy` agree.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../src/stack/config.ts';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };
const fnDir = path.join(ROOT, 'supabase/functions');
const rootConfig = path.join(ROOT, 'deno.json');
const functionConfigs = readdirSync(fnDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_') && existsSync(path.join(fnDir, d.name, 'index.ts')))
  .map((d) => path.join(fnDir, d.name, 'deno.json'));
const configs = [rootConfig, ...functionConfigs];
const importsOf = (config: string) =>
  (JSON.parse(readFileSync(config, 'utf8')) as { imports: Record<string, string> }).imports;

describe('dependency pins', () => {
  it('every deployable function has its own deno.json and committed deno.lock', () => {
    for (const c of configs) {
      expect(existsSync(c), c).toBe(true);
      expect(existsSync(path.join(path.dirname(c), 'deno.lock')), `${c}: deno.lock`).toBe(true);
    }
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8')).not.toMatch(/^deno\.lock$/m);
  });

  it.each(configs.filter(existsSync))('%s maps bare imports to exact npm versions, the same everywhere', (config) => {
    const imports = importsOf(config);
    expect(Object.keys(imports).length).toBeGreaterThan(0);
    expect(imports).toEqual(importsOf(rootConfig));
    for (const [name, target] of Object.entries(imports)) {
      expect(target.startsWith(`npm:${name}@`), `${name} → ${target}`).toBe(true);
      expect(target.slice(`npm:${name}@`.length), name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it.each(configs.filter(existsSync))('%s: its deno.lock resolves every import to the pinned version', (config) => {
    const lock = JSON.parse(readFileSync(path.join(path.dirname(config), 'deno.lock'), 'utf8')) as {
      specifiers?: Record<string, string>;
      workspace?: { dependencies?: string[] };
    };
    const deps = lock.workspace?.dependencies ?? [];
    for (const target of Object.values(importsOf(config))) expect(deps, config).toContain(target);
  });

  it('the Node toolkit can import what the shared function code imports', () => {
    for (const name of Object.keys(importsOf(rootConfig))) expect(pinned[name], name).toBeDefined();
  });

  it('package.json pins exact versions', () => {
    for (const [name, version] of Object.entries(pinned)) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
