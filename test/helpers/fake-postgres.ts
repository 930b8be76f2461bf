import { createServer, type Server } from 'node:net';

/**
 * A loopback TCP server that answers every PostgreSQL startup message the way a real server does
 * when it will not take the connection: one ErrorResponse (severity FATAL, the given SQLSTATE and
 * message), then it closes. It stands in for states a test cannot put the machine's PostgreSQL in
 * without disturbing everything else on it: starting up (57P03), a refused password (28P01).
 */
export interface FakePostgres {
  readonly port: number;
  close(): Promise<void>;
}

function errorResponse(sqlstate: string, message: string): Buffer {
  const fields = Buffer.concat([
    field('S', 'FATAL'),
    field('V', 'FATAL'),
    field('C', sqlstate),
    field('M', message),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

function field(type: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(value, 'utf8'), Buffer.from([0])]);
}

/** SSLRequest's code: a client asking for TLS first is told no ('N') and sends its startup message. */
const SSL_REQUEST = 80877103;

export async function startFakePostgres(sqlstate: string, message: string): Promise<FakePostgres> {
  const server: Server = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const length = pending.readInt32BE(0);
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        pending = pending.subarray(length);
        if (code === SSL_REQUEST) {
          socket.write('N');
          continue;
        }
        socket.end(errorResponse(sqlstate, message));
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
