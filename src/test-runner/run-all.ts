// `npm test`: runs every suite on a throw-away stack of its own (fresh state folder, free ports,
// the simulated model), never on the developer's `npm start` stack, and removes it afterwards,
// also on failure and Ctrl-C. Ends with one line: `summary: N passed, N failed`.
import { isolateEnvironment } from './isolation.ts';

const stack = await isolateEnvironment();
// Loaded only now: the stack modules read ports and folders from the environment set above.
const { runSuites } = await import('./suites.ts');
await runSuites(stack);
