/**
 * What must be undone if the process stops half-way: children to kill,
 * partial output to remove. Work registers a cleanup while it holds such a
 * thing and unregisters it when done; on SIGINT or SIGTERM the front end runs
 * every cleanup still registered before it exits. Failure paths clean up
 * where they fail; this covers the signals, which no try/finally sees.
 */

type Cleanup = () => void | Promise<void>;

const pending = new Set<Cleanup>();

/** Registers a cleanup; returns the function that unregisters it. */
export function registerCleanup(cleanup: Cleanup): () => void {
  pending.add(cleanup);
  return () => {
    pending.delete(cleanup);
  };
}

/** Runs every registered cleanup once (children first: they were registered last), within `timeoutMs`. */
export async function runCleanups(timeoutMs = 10_000): Promise<void> {
  const all = [...pending].reverse();
  pending.clear();
  const work = (async () => {
    for (const c of all) {
      try {
        await c();
      } catch {
        // A cleanup that fails must not stop the others.
      }
    }
  })();
  await Promise.race([work, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

export function pendingCleanups(): number {
  return pending.size;
}

let stopping = false;

/**
 * Whether a signal is stopping the process: work that fails now (a child
 * killed, a file removed under it) failed because of the stop, and front ends
 * say nothing more than that it stopped.
 */
export function isStopping(): boolean {
  return stopping;
}

/**
 * Installs SIGINT and SIGTERM handlers that run the cleanups, say so, and
 * exit with 128 + the signal number (130, 143), as shells report it. The
 * handlers stay installed: a second Ctrl-C while the cleanups run is ignored
 * rather than killing the process with its partial output still in place.
 */
export function cleanUpOnSignals(say: (text: string) => void, exit: (code: number) => void): void {
  const handler = (signal: NodeJS.Signals, code: number) => () => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping; removing partial output\n`);
    void runCleanups().then(() => exit(code));
  };
  process.on('SIGINT', handler('SIGINT', 130));
  process.on('SIGTERM', handler('SIGTERM', 143));
}
