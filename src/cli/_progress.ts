/**
 * The progress line `tally push --stdin` keeps redrawing on stderr while it sends a large input, drawn only
 * when stderr is a terminal (a log file or a pipe gets nothing).
 *
 * @module
 */

import type { CliIo } from "./cli_io.ts";

/** The least time between two redraws, so a fast push does not flood the terminal. */
const REDRAW_EVERY_MS = 100;
/** Carriage return and "erase to the end of the line" (ECMA-48 EL). */
const CLEAR_LINE = "\r\u001b[K";

/** One redrawn status line on a terminal's stderr. */
export class Progress {
  readonly #io: CliIo;
  readonly #enabled: boolean;
  readonly #now: () => number;
  #lines = 0;
  #bytes = 0;
  #requests = 0;
  #drawnAt = Number.NEGATIVE_INFINITY;
  #shown = false;

  /**
   * @param io Where to draw; nothing is drawn unless `io.stderrIsTty`.
   * @param options `quiet` draws nothing anyway (`--dry-run`, whose output is the requests); `now` is the
   *   clock, `Date.now` by default.
   */
  constructor(io: CliIo, options: { readonly quiet?: boolean; readonly now?: () => number } = {}) {
    this.#io = io;
    this.#enabled = io.stderrIsTty === true && options.quiet !== true;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Counts one sent request and redraws, at most every 100 ms.
   *
   * @param lastLine The last input line sent so far.
   * @param bytes The request body's size before compression.
   */
  sent(lastLine: number, bytes: number): void {
    this.#lines = lastLine;
    this.#bytes += bytes;
    this.#requests++;
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#drawnAt < REDRAW_EVERY_MS) return;
    this.#drawnAt = now;
    this.#draw();
  }

  /** Erases the line, so that another message can be written on stderr. */
  clear(): void {
    if (this.#shown) this.#io.stderr(CLEAR_LINE);
    this.#shown = false;
  }

  /** Draws the final count and ends the line, if anything was drawn or sent. */
  done(): void {
    if (!this.#enabled || this.#requests === 0) return;
    this.#draw();
    this.#io.stderr("\n");
    this.#shown = false;
  }

  #draw(): void {
    const mib = (this.#bytes / 1024 / 1024).toFixed(1);
    const requests = this.#requests === 1 ? "1 request" : `${this.#requests} requests`;
    this.#io.stderr(`${CLEAR_LINE}tally push: ${this.#lines} lines, ${mib} MiB sent in ${requests}`);
    this.#shown = true;
  }
}
