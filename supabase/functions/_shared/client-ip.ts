// Who is calling, by network address (parsed with ipaddr.js), for per-client limits on anonymous requests.
//
// Only addresses written by proxies we trust count. Each trusted proxy (the platform's
// gateway, a CDN in front of it, ...) APPENDS the address it received the connection from
// to X-Forwarded-For, so with N trusted proxies the client's address is the N-th entry from
// the right; everything to its left was sent by the client and may be forged. With 0 trusted
// proxies the socket's peer address is used.
//
// Addresses are normalized so one client maps to one key: IPv4-mapped IPv6 becomes IPv4,
// ports and brackets are dropped, and IPv6 is reduced to its /64 network (one subscriber
// usually owns a whole /64 and can rotate through it at will).

import ipaddr from 'ipaddr.js';

/** The client's address per the trusted hops, normalized; null when none can be established. */
export function clientAddress(headers: Headers, trustedHops: number, peerAddress?: string | null): string | null {
  if (trustedHops <= 0) return normalizeAddress(peerAddress ?? '');
  const entries = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return normalizeAddress(peerAddress ?? '');
  // Fewer entries than trusted hops: the request skipped a proxy; the farthest entry is the best we have.
  const entry = entries[Math.max(0, entries.length - trustedHops)];
  return normalizeAddress(entry);
}

/** IPv4 as dotted quad, IPv6 as its /64 prefix (`2001:db8:1:2::/64`); null for anything else. */
export function normalizeAddress(raw: string): string | null {
  let s = raw.trim();
  // "[v6]:port" or "[v6]", "v4:port", and a zone id: not part of who the client is.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  const v4port = /^([\d.]+):\d+$/.exec(s);
  if (v4port) s = v4port[1];
  s = s.replace(/%.*$/, '');
  // Only the dotted-quad IPv4 form: "127.1" or hex parts are not what a proxy writes.
  if (!ipaddr.IPv6.isValid(s) && !ipaddr.IPv4.isValidFourPartDecimal(s)) return null;
  const addr = ipaddr.process(s); // IPv4-mapped IPv6 becomes IPv4
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}
