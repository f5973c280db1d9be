import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Counts what clients send to PostgreSQL, at the wire: a TCP proxy in front of the server that reads the
 * frontend protocol. A statement is a simple Query message ('Q') or an extended-protocol Execute ('E');
 * a round trip is a message the client then waits on: a Query or a Sync ('S'). This counts every system
 * the same way, whatever its driver or its own counters say, so a query sent around a store's own counter
 * is seen too. Tests assert statement counts with it; the benchmark uses it where counts are measured (W5),
 * never where time is, since the extra hop costs latency. Point a client at it with urlFor().
 */
export class PgWireCounter {
  statements = 0;
  roundTrips = 0;
  /** Client connections open through the proxy now, and at most. */
  connections = 0;
  peakConnections = 0;
  private port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts listening on a free loopback port; returns it. */
  async start(): Promise<number> {
    this.server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('wire counter: no port');
    this.port = address.port;
    return address.port;
  }

  /** `url` (a postgres:// URL of the target server) pointed at this proxy instead. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  snapshot(): { statements: number; roundTrips: number } {
    return { statements: this.statements, roundTrips: this.roundTrips };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: Socket): void {
    const server = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(server);
    this.peakConnections = Math.max(this.peakConnections, ++this.connections);
    let started = false;
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      server.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // The startup packet (and an SSLRequest) have no type byte: length first.
      while (!started && pending.length >= 8) {
        const len = pending.readInt32BE(0);
        if (pending.length < len) return;
        const code = pending.readInt32BE(4);
        pending = pending.subarray(len);
        if (code !== 80877103) started = true; // 80877103 = SSLRequest; anything else is the startup message
      }
      while (started && pending.length >= 5) {
        const len = pending.readInt32BE(1);
        if (pending.length < len + 1) return;
        const type = String.fromCharCode(pending[0]!);
        if (type === 'Q') {
          this.statements++;
          this.roundTrips++;
        } else if (type === 'E') this.statements++;
        else if (type === 'S') this.roundTrips++;
        pending = pending.subarray(len + 1);
      }
    });
    server.on('data', (chunk) => client.write(chunk));
    let ended = false;
    const end = () => {
      if (!ended) this.connections--;
      ended = true;
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  }
}
