// Lets `npx vitest` run on its own: brings the local stack up when it is not already running.
import { upDatabase } from '../src/stack/postgres.ts';
import { apiStatus, startApiInBackground } from '../src/stack/processes.ts';

export default async function setup() {
  if (process.env.SKIP_STACK_SETUP) return;
  if (!(await apiStatus())) {
    await upDatabase();
    await startApiInBackground();
  }
}
