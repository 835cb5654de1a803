/**
 * Disposers run in reverse order of registration (what was made last is undone first); every one
 * runs even when an earlier one fails, and the first failure is rethrown at the end.
 */
export class Cleanup {
  private readonly disposers: Array<() => unknown | Promise<unknown>> = [];

  add(dispose: () => unknown | Promise<unknown>): void {
    this.disposers.push(dispose);
  }

  async run(): Promise<void> {
    let firstError: unknown;
    while (this.disposers.length > 0) {
      try {
        await this.disposers.pop()!();
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}
