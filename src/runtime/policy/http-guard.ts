import { randomBytes, timingSafeEqual } from 'crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'http';
import { connect, type Socket } from 'net';
import type { Duplex } from 'stream';
import type { HostPolicy } from './host-policy';

/** How long an upstream connection may stay silent (ms) before the guard drops it. */
const IDLE_MS = 30_000;

/**
 * A local HTTP proxy that every HTTP(S) request of an ffmpeg input from a message goes through
 * (`-http_proxy`): the playlist, each of its segments, each redirect. For each request it
 * resolves the host once, checks that address with the HostPolicy and connects to that very
 * address (https through CONNECT: the TLS stays end to end), so neither a redirect, a playlist
 * naming another host nor DNS rebinding reaches loopback, private, link-local or multicast
 * addresses unless allowed. It listens on 127.0.0.1 and asks for a random secret (Basic proxy
 * authentication, which ffmpeg sends after the first 407), so other local users cannot use it
 * to reach the hosts this runtime may reach. One per runtime, started on first use, closed
 * with the runtime.
 */
export class HttpGuard {
  private server?: Server;
  private listening?: Promise<string>;
  private readonly secret = randomBytes(18).toString('base64url');
  private readonly sockets = new Set<Socket | Duplex>();
  private counts = { requests: 0, refused: 0 };
  private closed = false;

  constructor(private readonly hosts: HostPolicy) {}

  /** Requests relayed and refused so far. */
  stats(): { requests: number; refused: number } {
    return { ...this.counts };
  }

  /** The proxy URL with its credentials (starts the listener on first use). */
  url(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the HTTP guard is closed'));
    this.listening ??= new Promise<string>((resolve, reject) => {
      const server = createServer((req, res) => void this.relay(req, res));
      server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.tunnel(req, socket, head));
      server.on('connection', (socket: Socket) => this.track(socket));
      server.on('clientError', (_error, socket) => socket.destroy());
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.unref();
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        resolve(`http://ff:${this.secret}@127.0.0.1:${port}`);
      });
      this.server = server;
    });
    return this.listening;
  }

  /** Stops listening and drops every connection. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private authorised(req: IncomingMessage): boolean {
    const given = Buffer.from(String(req.headers['proxy-authorization'] ?? ''));
    const wanted = Buffer.from(`Basic ${Buffer.from(`ff:${this.secret}`).toString('base64')}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  /** A plain-HTTP request (absolute URL): checked, then sent to the checked address. */
  private async relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorised(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="facefusion"', connection: 'close' });
      res.end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      this.refuse(res, 'a proxied request must name an http:// URL');
      return;
    }
    let checked;
    try {
      checked = await this.hosts.check(target.hostname, Number(target.port || 80), 'a request of a stream from a message', target.href);
    } catch (error) {
      this.refuse(res, (error as Error).message);
      return;
    }
    this.counts.requests++;
    const headers = { ...req.headers };
    for (const key of Object.keys(headers)) if (key.startsWith('proxy-')) delete headers[key];
    const upstream = request(
      { host: checked.address, family: checked.family, port: checked.port, method: req.method, path: `${target.pathname}${target.search}`, headers, setHost: false, agent: false, timeout: IDLE_MS },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('socket', (socket) => this.track(socket));
    upstream.on('timeout', () => upstream.destroy());
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { connection: 'close' });
      res.end();
    });
    req.pipe(upstream);
  }

  /** CONNECT host:port (https): checked, then a tunnel to the checked address. */
  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.track(socket);
    socket.on('error', () => socket.destroy());
    if (!this.authorised(req)) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="facefusion"\r\nConnection: close\r\n\r\n');
      return;
    }
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    let checked;
    try {
      if (!match) throw new Error('CONNECT needs host:port');
      checked = await this.hosts.check(match[1], Number(match[2]), 'a request of a stream from a message', `https://${req.url}`);
    } catch {
      this.counts.refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    this.counts.requests++;
    const upstream = connect({ host: checked.address, port: checked.port, family: checked.family });
    this.track(upstream);
    upstream.setTimeout(IDLE_MS, () => upstream.destroy());
    let open = false;
    upstream.once('connect', () => {
      open = true;
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => (open ? socket.destroy() : socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n')));
    socket.once('close', () => upstream.destroy());
  }

  private refuse(res: ServerResponse, reason: string): void {
    this.counts.refused++;
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(reason);
  }
}
