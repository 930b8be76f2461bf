/**
 * Pulls an async source ahead of its consumer, up to `limit` units of weight held, so that the
 * source's work (reading and parsing a file) goes on while the consumer waits for something else
 * (the database applying what it was given). Everything runs on the one event loop: the source
 * advances whenever the consumer awaits.
 *
 * `next` hands the items over in order and rethrows the source's error once the items before it
 * are taken; `close` stops pulling, ends the source (its `return`, which closes a file) and waits
 * for that. Always `close` a ReadAhead the consumer stops using, including on error.
 */
export class ReadAhead<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private held = 0;
  private ended = false;
  private failed = false;
  private error: unknown = undefined;
  private closed = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeSource: (() => void) | null = null;
  private readonly pumping: Promise<void>;

  constructor(
    source: AsyncIterable<T>,
    private readonly weigh: (item: T) => number,
    private readonly limit: number,
  ) {
    this.pumping = this.pump(source);
  }

  /** Items read and not yet taken. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** The next item, waiting for the source when none is held; done once the source has ended. */
  async next(): Promise<IteratorResult<T, undefined>> {
    while (this.head === this.queue.length) {
      if (this.failed) throw this.error;
      if (this.ended || this.closed) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
    const item = this.queue[this.head] as T;
    this.queue[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.held -= this.weigh(item);
    this.wake('source');
    return { done: false, value: item };
  }

  /** Stops reading ahead and waits until the source is ended; what it held is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.held = 0;
    this.wake('source');
    await this.pumping;
  }

  private async pump(source: AsyncIterable<T>): Promise<void> {
    // Started from the constructor: the first item is read as soon as the caller awaits anything.
    await Promise.resolve();
    try {
      for await (const item of source) {
        if (this.closed) break;
        this.queue.push(item);
        this.held += this.weigh(item);
        this.wake('consumer');
        while (this.held >= this.limit && !this.closed)
          await new Promise<void>((resolve) => (this.wakeSource = resolve));
        if (this.closed) break;
      }
    } catch (err) {
      this.failed = true;
      this.error = err;
    } finally {
      this.ended = true;
      this.wake('consumer');
    }
  }

  private wake(who: 'consumer' | 'source'): void {
    const wake = who === 'consumer' ? this.wakeConsumer : this.wakeSource;
    if (who === 'consumer') this.wakeConsumer = null;
    else this.wakeSource = null;
    wake?.();
  }
}
