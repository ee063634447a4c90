/**
 * A sleep that ends early when fired: a worker waits for its poll interval
 * but wakes at once when a job is enqueued in this process, a slot frees up,
 * or the queue stops.
 */
export class Wakeup {
  private waiters: Array<() => void> = [];

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  fire(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
