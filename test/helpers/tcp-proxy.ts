import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that breaks the connection on cue, for connection-loss
 * tests: after `afterBytes` bytes from the application once armed, it drops every connection
 * (both ends destroyed), resets it (an RST to the application), or stalls (stops forwarding for
 * `stallMs`, then drops). From the fault on it refuses new connections too, as a database that
 * is gone would, so nothing in the run can quietly reconnect.
 */

export type ProxyFault = 'drop' | 'reset' | 'stall';

export interface TcpProxy {
  /** postgres:// URL through the proxy, for `database` (the upstream's own query string kept). */
  url(upstream: string): string;
  /** Bytes the application sent since the proxy was armed (or started). */
  readonly bytesSent: number;
  /** Whether the armed fault has happened. */
  readonly faulted: boolean;
  /** Breaks the connections once the application has sent `afterBytes` more bytes. */
  arm(fault: ProxyFault, afterBytes: number, stallMs?: number): void;
  /** Forwards faithfully again (new connections only). */
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let bytes = 0;
  let armed: { fault: ProxyFault; afterBytes: number; stallMs: number } | null = null;
  let faulted = false;

  const breakAll = (fault: ProxyFault): void => {
    faulted = true;
    for (const [client, upstream] of pairs) {
      upstream.destroy();
      if (fault === 'reset') client.resetAndDestroy();
      else client.destroy();
    }
    pairs.clear();
  };

  const fire = (): void => {
    if (!armed || faulted) return;
    const { fault, stallMs } = armed;
    if (fault !== 'stall') return breakAll(fault);
    // A stall: nothing is forwarded either way (paused, and writes below are dropped) until the drop.
    faulted = true;
    for (const [client, upstream] of pairs) {
      client.pause();
      upstream.pause();
    }
    setTimeout(() => breakAll('drop'), stallMs).unref();
  };

  const server: Server = createServer((client) => {
    if (faulted) return void client.destroy();
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (faulted) return;
      bytes += chunk.length;
      if (armed && bytes >= armed.afterBytes) return fire();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!faulted) client.write(chunk);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');

  return {
    url(upstream) {
      const u = new URL(upstream);
      u.hostname = '127.0.0.1';
      u.port = String(address.port);
      return u.toString();
    },
    get bytesSent() {
      return bytes;
    },
    get faulted() {
      return faulted;
    },
    arm(fault, afterBytes, stallMs = 0) {
      bytes = 0;
      faulted = false;
      armed = { fault, afterBytes, stallMs };
    },
    heal() {
      armed = null;
      faulted = false;
      bytes = 0;
    },
    close() {
      breakAll('drop');
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
