/**
 * The outbox's asynchronous `fdatasync`s: at most one in flight per file, the syncs asked for meanwhile
 * folded into one more run after it, and a file retired by its writer closed once its last sync finished.
 *
 * @module
 */

import { fdatasync } from "node:fs";
import { closeFd } from "./_outbox_segment.ts";

/** A segment file the writer appends to, as {@link OutboxSyncs} tracks it. */
export interface SyncedFd {
  readonly fd: number;
  /** A sync is in flight. */
  syncing: boolean;
  /** Bytes were written since the sync in flight began: it runs once more. */
  dirty: boolean;
  /** The writer is done with it: closed after its last sync. */
  retired: boolean;
}

/**
 * The syncs in flight of one outbox's files. A resource only through the descriptors it may close;
 * {@link OutboxSyncs.settled} waits for every one.
 *
 * @example
 * ```ts
 * const syncs = new OutboxSyncs();
 * const file = syncedFd(openSync(path, "a"));
 * writeAll(file.fd, bytes);
 * syncs.sync(file); // off the event loop
 * syncs.retire(file); // one last sync, then close
 * await syncs.settled();
 * ```
 */
export class OutboxSyncs {
  readonly #pending = new Set<Promise<void>>();

  /**
   * Syncs a file's data to disk off the event loop; while a sync of it is in flight, marks it to run once
   * more after that one instead.
   *
   * @param file The file.
   */
  sync(file: SyncedFd): void {
    if (file.syncing) {
      file.dirty = true;
      return;
    }
    file.syncing = true;
    const done = new Promise<void>((resolve) => {
      const run = (): void => {
        file.dirty = false;
        fdatasync(file.fd, () => {
          if (file.dirty) return run();
          file.syncing = false;
          if (file.retired) closeFd(file.fd);
          resolve();
        });
      };
      run();
    });
    this.#pending.add(done);
    done.then(() => this.#pending.delete(done));
  }

  /**
   * Retires a file: one last sync, then it is closed.
   *
   * @param file The file; not to be written again.
   */
  retire(file: SyncedFd): void {
    file.retired = true;
    this.sync(file);
  }

  /**
   * Waits until no sync is in flight, including the ones asked for while waiting.
   *
   * @returns Resolves when every sync finished (and every retired file is closed).
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/**
 * Wraps a descriptor for {@link OutboxSyncs}.
 *
 * @param fd An open file descriptor.
 * @returns The file, with no sync in flight.
 */
export function syncedFd(fd: number): SyncedFd {
  return { fd, syncing: false, dirty: false, retired: false };
}
