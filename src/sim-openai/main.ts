import { startSimOpenAI } from './server.ts';

const DEFAULT_PORT = 54330;

const port = process.env.SIM_OPENAI_PORT ? Number(process.env.SIM_OPENAI_PORT) : DEFAULT_PORT;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Invalid SIM_OPENAI_PORT: ${process.env.SIM_OPENAI_PORT}`);
  process.exit(1);
}

const sim = await startSimOpenAI({
  port,
  ...(process.env.SIM_OPENAI_HOST ? { host: process.env.SIM_OPENAI_HOST } : {}),
});
console.log(`Simulated OpenAI listening at ${sim.url} (control endpoints under ${sim.origin}/_sim)`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`Received ${signal}, stopping simulated OpenAI`);
  await sim.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
