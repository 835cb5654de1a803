/**
 * Pause/resume decisions with hysteresis: pause when the inference queue reaches `high`, resume
 * when it has drained to `low` (so the consumer does not flap around one value).
 */
export class BackPressure {
  private paused = false;

  constructor(
    readonly high: number,
    readonly low: number = Math.floor(high / 2),
  ) {
    if (!(high >= 1) || !(low >= 0) || low >= high) {
      throw new Error(`back-pressure bounds must satisfy 0 <= low < high (got low ${low}, high ${high})`);
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The transition the new depth calls for, if any. */
  update(depth: number): 'pause' | 'resume' | null {
    if (!this.paused && depth >= this.high) {
      this.paused = true;
      return 'pause';
    }
    if (this.paused && depth <= this.low) {
      this.paused = false;
      return 'resume';
    }
    return null;
  }
}
