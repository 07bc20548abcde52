// One request = one transaction, as in PostgREST. BEGIN, the set_config statement (role,
// claims, headers…), the main statement(s) and COMMIT are written to the socket together, so a
// warm request costs a single network round trip, and several requests' transactions can follow
// each other on the same connection (see Database). When the response depends on the rows
// (singular object on a write, max-affected), COMMIT waits for that check instead, on a
// connection of its own, and a failed check rolls the work back.
import net from 'node:net';
import postgres, { type Sql } from 'postgres';
import type { RestError } from './errors.ts';

export type Row = Record<string, string | null>;
export interface Statement {
  text: string;
  params: (string | null)[];
}
export interface TxSpec {
  readOnly: boolean;
  /** set_config(name, value, true) pairs, applied in order before the main statements. */
  settings: [string, string][];
  statements: Statement[];
  /** Runs on the results before COMMIT; an error returned here rolls the transaction back. */
  check?: (results: Row[][]) => RestError | null;
}

const BEGIN_RO = 'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY';
const BEGIN_RW = 'BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE';

/**
 * Sockets opened here rather than by the driver, for two reasons. Nagle's algorithm is off
 * (several messages are written per request and later ones must not wait for an ACK). And
 * writes are corked until the end of the current turn of the event loop: the driver writes each
 * message as soon as its buffer passes 1 KiB, so one request (or several pipelined on a lane)
 * would cost several syscalls, which dominate the hot path's CPU in sandboxed kernels.
 */
function batchingSocket(dbUrl: string): (() => net.Socket) | undefined {
  const url = new URL(dbUrl);
  const host = decodeURIComponent(url.hostname);
  if (!host || host.startsWith('/') || url.searchParams.has('host')) return undefined;
  const port = Number(url.port || 5432);
  // The socket is handed over while still connecting (writes queue until it connects): a refused
  // or reset connection then reaches the driver as a socket 'error' + 'close', which fails the
  // waiting query and frees the connection slot. Rejecting here instead would leave the driver's
  // connection in its `connecting` state forever, so the pool would hang after a restart.
  return () => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port, noDelay: true });
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    // Two turns: the driver's own deferred flush (a setImmediate) must land in the batch too.
    const uncorkLater = () => setImmediate(uncork);
    socket.write = ((...args: unknown[]) => {
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(uncorkLater);
      }
      return write(...args);
    }) as typeof socket.write;
    return socket;
  };
}

// deno-lint-ignore ban-types -- postgres.js's own spelling of "no custom types"
export function createPool(dbUrl: string, poolSize: number, extra: postgres.Options<{}> = {}): Sql {
  const sql = postgres(dbUrl, {
    ...extra,
    // `socket` is a documented driver option its typings lack.
    ...({ socket: batchingSocket(dbUrl) } as object),
    max: poolSize,
    prepare: true,
    // Left on although unused: with it off the driver never hands a fresh connection to reserve().
    fetch_types: true,
    onnotice: () => {},
    connect_timeout: 5,
    // The driver's default backoff grows to 20 s between attempts: after a restart the API would
    // stay down long after the database is back. A local database is worth retrying at once.
    backoff: (attempt: number) => Math.min(0.05 * attempt, 0.25),
    connection: { application_name: 'postgrest-node' },
  });
  // Values go to Postgres as text exactly as the client sent them and results come back as
  // text: the driver's JS conversions (booleans, dates, json, arrays) would change their meaning.
  const options = sql.options as unknown as { serializers: Record<string, unknown>; parsers: Record<string, unknown> };
  options.serializers = new Proxy({}, { has: () => false, get: () => undefined, set: () => true });
  for (const k of Object.keys(options.parsers)) delete options.parsers[k];
  return sql;
}

const setConfigCache: string[] = [];
function setConfigSql(n: number): string {
  if (!setConfigCache[n]) {
    const calls = Array.from({ length: n }, (_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
    setConfigCache[n] = 'select ' + calls.join(', ');
  }
  return setConfigCache[n];
}

export class TxError extends Error {
  constructor(readonly cause: unknown) {
    super('transaction failed');
  }
}

type Conn = postgres.ReservedSql;

/** Queues one transaction's statements back to back on `conn`; nothing else can interleave. */
function pipeline(conn: Conn, spec: TxSpec, withCommit: boolean) {
  const pending: Promise<unknown>[] = [];
  const exec = <T>(q: postgres.PendingQuery<postgres.Row[]>): Promise<T> => {
    const p = q.execute() as unknown as Promise<T>;
    pending.push(p.catch(() => undefined));
    return p;
  };
  exec(conn.unsafe(spec.readOnly ? BEGIN_RO : BEGIN_RW));
  const flat: string[] = [];
  for (const [k, v] of spec.settings) flat.push(k, v);
  const setup = exec(conn.unsafe(setConfigSql(spec.settings.length), flat, { prepare: true }));
  const mains = spec.statements.map((st) =>
    exec<Row[]>(conn.unsafe(st.text, st.params as string[], { prepare: true }))
  );
  const commit = withCommit ? exec(conn.unsafe('COMMIT')) : null;
  return { setup, mains, commit, settled: Promise.all(pending) };
}

/** Connection-level failures (as opposed to SQL errors) mean the lane must be replaced. */
const isConnectionError = (e: unknown) =>
  !(e instanceof postgres.PostgresError) || e.severity === 'FATAL' || e.severity === 'PANIC';

interface Lane {
  /** A one-connection pool per lane, so that a closed connection names its lane. */
  pool: Sql;
  conn: Conn | null;
  connecting: Promise<Conn> | null;
  /** Start times of the transactions queued on the lane; Postgres completes them in this order. */
  starts: number[];
  /** Fails the lane's in-flight transactions when its connection dies: the driver would leave them pending. */
  aborts: Set<(e: unknown) => void>;
}

/** A lane whose oldest transaction runs longer than this is avoided: it would delay what queues behind. */
const STUCK_MS = 20;

const connectionClosed = () => Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });

/**
 * Whatever stops a connection from opening (refused, reset, "the database system is starting
 * up") means the database is unavailable: PostgREST's 503, not the SQL error's own status.
 */
const connectFailed = (e: unknown) =>
  Object.assign(new Error(`could not connect: ${(e as Error)?.message ?? String(e)}`), { code: 'CONNECTION_FAILED' });

/**
 * Transactions that commit without looking at their results are fully pipelined, so several
 * requests' transactions can follow each other on one connection ("lanes"): each writes
 * BEGIN…COMMIT contiguously, Postgres runs them in order, and a failure only aborts its own
 * transaction. This amortizes socket round trips and syscalls across concurrent requests.
 * Transactions that must decide COMMIT or ROLLBACK after seeing rows take a connection of their own.
 */
export class Database {
  /** Schema cache queries, LISTEN and transactions needing a decision before COMMIT. */
  readonly aux: Sql;
  private readonly lanes: Lane[];
  private readonly waiters: (() => void)[] = [];
  private closing = false;

  constructor(private readonly dbUrl: string, lanes: number, private readonly maxDepth = 16) {
    this.lanes = Array.from({ length: Math.max(1, lanes) }, () => {
      const lane = { conn: null, connecting: null, starts: [], aborts: new Set() } as unknown as Lane;
      lane.pool = this.lanePool(lane);
      return lane;
    });
    this.aux = createPool(dbUrl, 2);
  }

  /**
   * Lanes hold their connection for the handler's lifetime, so the driver must not recycle it.
   * A reserved connection that died can be neither reused nor released (the driver would hand
   * the dead connection out again), so the lane gets a fresh pool instead.
   */
  private lanePool(lane: Lane): Sql {
    const pool: Sql = createPool(this.dbUrl, 1, {
      max_lifetime: 0,
      idle_timeout: 0,
      onclose: () => {
        if (lane.pool === pool && !this.closing) this.replaceLane(lane);
      },
    });
    return pool;
  }

  private replaceLane(lane: Lane): void {
    const old = lane.pool;
    lane.pool = this.lanePool(lane);
    lane.conn = null;
    lane.connecting = null;
    const error = connectionClosed();
    for (const abort of lane.aborts) abort(error);
    lane.aborts.clear();
    old.end({ timeout: 1 }).catch(() => undefined);
  }

  run(spec: TxSpec): Promise<Row[][]> {
    return spec.check ? this.runExclusive(spec) : this.runOnLane(spec);
  }

  private async acquireLane(): Promise<Lane> {
    for (;;) {
      const now = performance.now();
      let best: Lane | null = null;
      let bestScore = Infinity;
      for (const lane of this.lanes) {
        if (lane.starts.length >= this.maxDepth) continue;
        const score = lane.starts.length + (lane.starts.length && now - lane.starts[0] > STUCK_MS ? this.maxDepth : 0);
        if (score < bestScore) {
          best = lane;
          bestScore = score;
        }
      }
      if (best) {
        best.starts.push(now);
        return best;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private releaseLane(lane: Lane): void {
    lane.starts.shift();
    this.waiters.shift()?.();
  }

  private laneConn(lane: Lane): Promise<Conn> {
    if (lane.conn) return Promise.resolve(lane.conn);
    if (!lane.connecting) {
      const pool = lane.pool;
      const connecting: Promise<Conn> = pool.reserve()
        .then((c) => {
          if (lane.pool === pool) lane.conn = c;
          return c;
        })
        .finally(() => {
          if (lane.connecting === connecting) lane.connecting = null;
        });
      lane.connecting = connecting;
    }
    return lane.connecting;
  }

  private async runOnLane(spec: TxSpec): Promise<Row[][]> {
    const lane = await this.acquireLane();
    let abort!: (e: unknown) => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    aborted.catch(() => undefined);
    lane.aborts.add(abort);
    try {
      const conn = await Promise.race([
        this.laneConn(lane).catch((e) => {
          throw connectFailed(e);
        }),
        aborted,
      ]);
      const { setup, mains, commit, settled } = pipeline(conn, spec, true);
      await Promise.race([settled, aborted]);
      // The first failure is the real one; later statements only report the aborted transaction.
      await setup.catch((e) => {
        throw new TxError(e);
      });
      const results = await Promise.all(mains).catch((e) => {
        throw new TxError(e);
      });
      await commit!.catch((e) => {
        throw new TxError(e);
      });
      return results;
    } catch (e) {
      throw e instanceof TxError ? e : new TxError(e);
    } finally {
      lane.aborts.delete(abort);
      this.releaseLane(lane);
    }
  }

  private async runExclusive(spec: TxSpec): Promise<Row[][]> {
    const conn = await this.aux.reserve().catch((e) => {
      throw new TxError(connectFailed(e));
    });
    let broken = false;
    try {
      const { setup, mains, settled } = pipeline(conn, spec, false);
      await settled;
      let results: Row[][];
      try {
        await setup;
        results = await Promise.all(mains);
      } catch (e) {
        broken = isConnectionError(e);
        if (!broken) await conn.unsafe('ROLLBACK');
        throw new TxError(e);
      }
      const failed = spec.check!(results);
      if (failed) {
        await conn.unsafe('ROLLBACK');
        throw new TxError(failed);
      }
      await conn.unsafe('COMMIT').catch((e) => {
        broken = isConnectionError(e);
        throw new TxError(e);
      });
      return results;
    } finally {
      // Releasing a dead connection would hand it out again; the driver reconnects it when closed.
      if (!broken) conn.release();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    // Reserved connections would otherwise make end() wait out its timeout.
    for (const lane of this.lanes) {
      lane.conn?.release();
      lane.conn = null;
    }
    await Promise.all([...this.lanes.map((l) => l.pool.end({ timeout: 5 })), this.aux.end({ timeout: 5 })]);
  }
}
