/**
 * The host name of an HTTP authority (`Host` header, URL host, or an ETL_ALLOWED_HOSTS entry),
 * lower-cased, without its port, IPv6 brackets or a trailing dot: `Example.org:3000` →
 * `example.org`, `[::1]:3000` → `::1`. Null when it is not a host name at all.
 */
export function hostNameOf(authority: string): string | null {
  const a = authority.trim().toLowerCase();
  let name: string;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    if (end < 0 || !/^(:\d*)?$/.test(a.slice(end + 1))) return null;
    name = a.slice(1, end);
  } else if (a.indexOf(':') !== a.lastIndexOf(':')) {
    // A bare IPv6 address: written so in configuration (a Host header brackets it).
    name = a;
  } else {
    const [host = '', port] = a.split(':');
    if (port !== undefined && !/^\d*$/.test(port)) return null;
    name = host;
  }
  name = name.replace(/\.$/, '');
  return /^[a-z0-9._-]+$/.test(name) || /^[0-9a-f:.]+$/.test(name) ? name : null;
}
