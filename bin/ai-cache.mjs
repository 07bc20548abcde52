#!/usr/bin/env node
// `ai-cache` launcher (package.json "bin"): runs the TypeScript CLI in src/cli through tsx,
// which is a runtime dependency of this package. Exit codes: see src/cli/errors.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
