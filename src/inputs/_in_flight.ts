/**
 * The stop rule of the inputs that answer requests (http, coscale_api): once stopping, new work is
 * refused (the routes answer 503), and stop resolves when the work already accepted has its answer.
 *
 * @module
 */

/**
 * Counts the accepts in flight and tells when they are done.
 *
 * @example
 * ```ts
 * const work = new InFlight();
 * const answer = await work.track(accept(bytes, format)); // counted until it settles
 * await work.stop(); // work.stopping is true from here on
 * ```
 */
export class InFlight {
  #stopping = false;
  #count = 0;
  #drained: (() => void) | undefined;

  /** Whether {@link InFlight.stop} was called: new work is to be refused. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Counts one piece of work until it settles.
   *
   * @param work The work.
   * @returns What the work resolves to.
   */
  async track<T>(work: Promise<T>): Promise<T> {
    this.#count++;
    try {
      return await work;
    } finally {
      this.#count--;
      if (this.#count === 0 && this.#drained !== undefined) this.#drained();
    }
  }

  /**
   * Starts refusing new work.
   *
   * @returns Resolves when no work is in flight.
   */
  stop(): Promise<void> {
    this.#stopping = true;
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }
}
