// `npm run stack -- up|down|status|env|reset` and `npm start`: the Docker-free local Supabase.
import { Command } from 'commander';
import { isReady, isRunning, stopPostgres, upDatabase } from './postgres.ts';
import { apiStatus, runForeground, startApiInBackground, stopApi } from './processes.ts';
import { API_URL, DB_URL, PG_DATA, PG_MAJOR, POSTGRES, stackEnv } from './config.ts';
import { addUser } from '../auth/provision.ts';

const program = new Command('stack').description('Local Supabase-compatible stack without Docker');

program
  .command('up')
  .description('start the database (and API) in the background; returns once they are ready')
  .option('--db-only', 'only PostgreSQL, no API')
  .action(async (opts: { dbOnly?: boolean }) => {
    await upDatabase();
    console.log(`database ready: ${DB_URL}`);
    if (!opts.dbOnly) {
      await startApiInBackground();
      console.log(`API ready: ${API_URL}`);
    }
  });

program
  .command('restart')
  .description(
    'restart the API (gateway, functions, simulated OpenAI) to pick up code changes; the database keeps running',
  )
  .action(async () => {
    await stopApi();
    await upDatabase();
    await startApiInBackground();
    console.log(`API ready: ${API_URL}`);
  });

program
  .command('down')
  .description('stop everything the stack started')
  .action(async () => {
    await stopApi();
    await stopPostgres();
    console.log('stack stopped');
  });

program
  .command('status')
  .description('what is running')
  .action(async () => {
    const db = (await isRunning()) && (await isReady());
    const api = await apiStatus();
    console.log(`database: ${db ? 'running' : 'stopped'} ${DB_URL}`);
    console.log(
      `postgres: ${
        PG_MAJOR === null ? `none usable (${POSTGRES.problem})` : `${PG_MAJOR} (${POSTGRES.source})`
      }, cluster ${PG_DATA}`,
    );
    console.log(`api:      ${api ? 'running' : 'stopped'} ${API_URL}`);
    process.exitCode = db ? 0 : 1;
  });

program
  .command('env')
  .description('print KEY=VALUE lines for tests, functions and apps')
  .action(() => {
    for (const [k, v] of Object.entries(stackEnv())) console.log(`${k}=${v}`);
  });

program
  .command('user')
  .description('users who sign in with e-mail and password (supabase.auth.signInWithPassword)')
  .command('add <email>')
  .description('create a user (or update their password) and give them a role in a company')
  .option('--company <id>', 'company uuid the user belongs to')
  .option('--role <role>', 'owner | admin | member', 'member')
  .option('--password <password>', 'password (at least 6 characters); generated and printed when a new user gets none')
  .action(async (email: string, opts: { company?: string; role: string; password?: string }) => {
    if (!((await isRunning()) && (await isReady()))) await upDatabase();
    const r = await addUser(DB_URL, { email, company: opts.company, role: opts.role, password: opts.password });
    console.log(`${r.created ? 'created' : 'updated'} user ${r.email} (id ${r.id})`);
    if (r.password) console.log(`password: ${r.password}`);
    if (r.company) console.log(`role ${r.role} in company ${r.company}`);
    console.log(`sign in at ${stackEnv().AI_DASHBOARD_URL} or with supabase.auth.signInWithPassword`);
  });

program
  .command('start')
  .description('run the whole stack in the foreground (Ctrl-C stops it)')
  .action(async () => {
    await runForeground();
  });

program.parseAsync().catch((e: Error) => {
  console.error(`stack: ${e.message}`);
  process.exit(1);
});
