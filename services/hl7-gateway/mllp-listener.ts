import type { Server, Socket } from 'node:net';
import type { Logger } from '../shared/observability/logger.ts';
import type { PeerAllowList } from '../shared/network/peer-allow-list.ts';
import { createListeningServer, type ListenerTls } from '../shared/network/tls-files.ts';
import { mllpFrame, MllpFramer } from './mllp-framer.ts';
import type { MessageHandler } from './message-handler.ts';
import type { Hl7GatewayMetrics } from './metrics.ts';

export interface MllpListenerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  maxConnections: number;
  idleTimeoutMs: number;
  allowList: PeerAllowList;
  tls: ListenerTls | null;
}

/**
 * The MLLP server: one framer per connection; each connection's messages are handled one after the
 * other (a sender waits for each ACK, and order within a connection is kept even for senders that
 * pipeline). Peers outside the allow-list and connections over the limit are closed at once. When
 * a message gets no ACK (Kafka did not acknowledge), the connection is closed so the sender notices
 * at once and resends, instead of waiting for its own timeout.
 */
export class MllpListener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: MllpListenerOptions,
    private readonly handler: MessageHandler,
    private readonly metrics: Hl7GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    const onConnection = (socket: Socket) => this.accept(socket);
    const server = createListeningServer(this.options.tls, onConnection);
    server.on('tlsClientError', (err: Error) =>
      this.logger.warn({ err: err.message }, 'TLS handshake failed'),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Stops accepting, lets handlers in progress finish (up to `graceMs`), then closes every connection. */
  async stop(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    const deadline = Date.now() + graceMs;
    while ([...this.sockets].some((s) => (s as Socket & { busy?: boolean }).busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    const peer = socket.remoteAddress;
    if (!this.options.allowList.allows(peer)) {
      this.metrics.connectionsRefused.inc({ reason: 'peer-not-allowed' });
      this.logger.warn({ peer }, 'connection from a peer not in HL7_GATEWAY_ALLOWED_PEERS refused');
      socket.destroy();
      return;
    }
    if (this.sockets.size >= this.options.maxConnections) {
      this.metrics.connectionsRefused.inc({ reason: 'too-many-connections' });
      this.logger.warn(
        { peer, open: this.sockets.size },
        'connection refused: HL7_GATEWAY_MAX_CONNECTIONS reached',
      );
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.metrics.connections.set(this.sockets.size);
    socket.setNoDelay(true);
    if (this.options.idleTimeoutMs > 0) {
      socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy());
    }
    const framer = new MllpFramer(this.options.maxMessageBytes);
    const state = socket as Socket & { busy?: boolean };
    let queue: Promise<void> = Promise.resolve();
    const send = (ack: string) => {
      if (!socket.destroyed) socket.write(mllpFrame(ack));
    };
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        queue = queue.then(async () => {
          if (socket.destroyed) return;
          if (event.kind !== 'message') {
            send(this.handler.refuseFrame(event.kind, event.head, event.size));
            return;
          }
          state.busy = true;
          try {
            const response = await this.handler.handle(event.bytes);
            if (response.ack !== null) send(response.ack);
            else socket.destroy();
          } catch (err) {
            this.logger.error(
              { err: (err as Error).message },
              'message handling failed; closing the connection without ACK',
            );
            socket.destroy();
          } finally {
            state.busy = false;
          }
        });
      }
    });
    socket.on('error', (err) => this.logger.debug({ peer, err: err.message }, 'connection error'));
    socket.on('close', () => {
      if (framer.pendingBytes > 0) {
        this.metrics.abandonedFrames.inc();
        this.logger.info(
          { peer, bytes: framer.pendingBytes },
          'sender disconnected mid-message; nothing of it was published',
        );
      }
      this.sockets.delete(socket);
      this.metrics.connections.set(this.sockets.size);
    });
  }
}
