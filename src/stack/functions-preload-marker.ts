/**
 * The line a function worker prints on stdout once it listens (functions-preload.ts), which the
 * functions host waits for rather than probing the port: a probe of a port in the ephemeral
 * range can connect to itself (TCP simultaneous open) and leave the port unbindable for a minute.
 */
export const LISTENING_MARKER = '@@ai-cache-worker-listening@@';
