// The one-hop floor: an HTTP handler doing one primary-key read through the `postgres` driver.
// Runs as its own process so the load generator does not share its event loop.
import http from 'node:http';
import postgres from 'postgres';

const sql = postgres(process.env.SUPABASE_DB_URL!, { max: 8, prepare: true });
const server = http.createServer(async (req, res) => {
  const id = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? 1);
  const rows = await sql`select id, cached_result, expires_at from public.ai_cache where id = ${id}`;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(rows[0] ?? null));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', async () => {
  server.close();
  await sql.end();
  process.exit(0);
});
