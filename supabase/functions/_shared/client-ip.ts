// Who is calling, by network address, for per-client limits on anonymous requests.
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
  if (!s) return null;
  // "[v6]:port" or "[v6]"
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  // "v4:port"
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  if (v4port) s = v4port[1];
  s = s.replace(/%.*$/, ''); // zone id
  if (isIPv4(s)) return canonicalIPv4(s);
  const groups = parseIPv6(s);
  if (!groups) return null;
  // ::ffff:a.b.c.d (IPv4-mapped)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function canonicalIPv4(s: string): string {
  return s.split('.').map((p) => String(Number(p))).join('.');
}

/** The 8 16-bit groups of an IPv6 address (with an optional trailing dotted IPv4), or null. */
function parseIPv6(s: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  let tail: number[] = [];
  let head = s;
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (v4) {
    if (!isIPv4(v4[2])) return null;
    const b = v4[2].split('.').map(Number);
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    head = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if ([...left, ...right].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const explicit = left.length + right.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const zeros = Array(8 - explicit).fill(0);
  return [
    ...left.map((g) => parseInt(g, 16)),
    ...(halves.length === 2 ? zeros : []),
    ...right.map((g) => parseInt(g, 16)),
    ...tail,
  ];
}
