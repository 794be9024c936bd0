/**
 * The kill-latency observer of `tests/bench/scripts.ts`, run as a worker thread so that its polling never
 * waits on the event loop of the sandbox it watches.
 *
 * For each hung run it is told about, it reads the run's pid file (the script, its children and the
 * grandchild in a session of its own, written by `hang.sh`), remembers each process's start time (so that a
 * reused pid never counts as alive), and from shortly before the run's deadline polls `/proc/PID/stat` of
 * those processes about every millisecond. It answers with the first moment it saw none of them running
 * (gone, or a zombie: a zombie runs nothing and holds nothing but its pid) and the last moment it saw one
 * still running. Times are `performance.timeOrigin + performance.now()`, comparable across threads.
 *
 * Messages in: {@link WatchMessage}, {@link ResolvedMessage}, `{ kind: "stop" }`. Out: {@link GoneMessage}.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";

/** Watch one hung run. */
export interface WatchMessage {
  readonly kind: "watch";
  /** The run's number. */
  readonly id: number;
  /** Where `hang.sh` writes its pids. */
  readonly pidfile: string;
  /** From when to poll fast (a little before the deadline), epoch ms. */
  readonly fastFromMs: number;
}

/** The sandbox has resolved the run: read the pid file one last time if not yet read. */
export interface ResolvedMessage {
  readonly kind: "resolved";
  /** The run's number. */
  readonly id: number;
}

/** What the observer saw of one run. */
export interface GoneMessage {
  readonly kind: "gone";
  /** The run's number. */
  readonly id: number;
  /** The processes watched (empty when the pid file never appeared). */
  readonly pids: readonly number[];
  /** The first poll that found none of them running, epoch ms. */
  readonly goneMs: number;
  /** The last poll that found one still running, epoch ms (0 when none was ever seen). */
  readonly lastAliveMs: number;
}

interface Watched {
  readonly id: number;
  readonly pidfile: string;
  readonly fastFromMs: number;
  /** pid → start time (clock ticks since boot), once the pid file was read. */
  procs: Map<number, string> | undefined;
  resolved: boolean;
  lastAliveMs: number;
}

const FAST_POLL_MS = 1;
const SLOW_POLL_MS = 5;

const watched = new Map<number, Watched>();
let stopped = false;

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** State and start time of a process, or undefined when it does not exist. */
function procStat(pid: number): { readonly state: string; readonly start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": fields after the last ")"; starttime is field 22, the 20th after comm.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "", start: rest[19] ?? "" };
}

function readPids(run: Watched): void {
  let text: string;
  try {
    text = readFileSync(run.pidfile, "utf8");
  } catch {
    return;
  }
  const pids = text.trim().split(/\s+/).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
  // hang.sh writes the file in one go after forking everything: four pids, or a partial write.
  if (pids.length < 4) return;
  const procs = new Map<number, string>();
  for (const pid of pids) procs.set(pid, procStat(pid)?.start ?? "gone");
  run.procs = procs;
}

function anyRunning(procs: ReadonlyMap<number, string>): boolean {
  for (const [pid, start] of procs) {
    const stat = procStat(pid);
    if (stat !== undefined && stat.start === start && stat.state !== "Z" && stat.state !== "X") return true;
  }
  return false;
}

function poll(): void {
  if (stopped) return;
  const now = nowMs();
  let fast = false;
  for (const run of watched.values()) {
    if (run.procs === undefined) {
      readPids(run);
      if (run.procs === undefined) {
        if (run.resolved) {
          watched.delete(run.id);
          post({ kind: "gone", id: run.id, pids: [], goneMs: now, lastAliveMs: 0 });
        }
        continue;
      }
    }
    if (now < run.fastFromMs && !run.resolved) continue;
    fast = true;
    if (anyRunning(run.procs)) {
      run.lastAliveMs = now;
      continue;
    }
    watched.delete(run.id);
    post({
      kind: "gone",
      id: run.id,
      pids: [...run.procs.keys()],
      goneMs: now,
      lastAliveMs: run.lastAliveMs,
    });
  }
  setTimeout(poll, fast ? FAST_POLL_MS : SLOW_POLL_MS);
}

function post(message: GoneMessage): void {
  parentPort!.postMessage(message);
}

parentPort!.on("message", function onMessage(message: WatchMessage | ResolvedMessage | { kind: "stop" }) {
  switch (message.kind) {
    case "watch":
      watched.set(message.id, {
        id: message.id,
        pidfile: message.pidfile,
        fastFromMs: message.fastFromMs,
        procs: undefined,
        resolved: false,
        lastAliveMs: 0,
      });
      break;
    case "resolved": {
      const run = watched.get(message.id);
      if (run !== undefined) run.resolved = true;
      break;
    }
    case "stop":
      stopped = true;
      parentPort!.close();
      break;
  }
});

setTimeout(poll, SLOW_POLL_MS);
