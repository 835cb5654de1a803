import type { HealthState } from './http-server.ts';

/**
 * A service's /health answer from the moment its HTTP endpoint listens: 'starting' with what it is
 * doing or waiting for (connecting, topics an administrator has not created yet), then the running
 * part's own state (the consumer's ok / degraded / unhealthy).
 */
export class ServiceHealth {
  private startup: HealthState | null = { status: 'starting', detail: 'connecting' };
  private running: () => HealthState = () => ({ status: 'starting' });

  /** Reports 'starting' with this detail until started() is called. */
  starting(detail: string): void {
    this.startup = { status: 'starting', detail };
  }

  /** From now on /health is what `running` says. */
  started(running: () => HealthState): void {
    this.running = running;
    this.startup = null;
  }

  current(): HealthState {
    return this.startup ?? this.running();
  }
}
