// Runs a command and reports its wall time and the peak resident memory of
// the whole process tree (the command and every descendant, summed), sampled
// from /proc every 50 ms. Linux only. Used by the benchmarks.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** RSS of the process tree under `root`, and of `root` alone, in KiB. */
function treeRssKiB(root) {
  const children = new Map();
  const rss = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      rss.set(Number(name), m ? Number(m[1]) : 0);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return { total, own: rss.get(root) ?? 0 };
}

/** @returns {Promise<{ seconds: number, peakRssMiB: number, peakOwnRssMiB: number, code: number }>} */
export function measure(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'], env: { ...process.env, ...options.env }, cwd: options.cwd });
    let peak = 0;
    let peakOwn = 0;
    const timer = setInterval(() => {
      const { total, own } = treeRssKiB(child.pid);
      peak = Math.max(peak, total);
      peakOwn = Math.max(peakOwn, own);
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, peakRssMiB: peak / 1024, peakOwnRssMiB: peakOwn / 1024, code: code ?? 1 });
    });
  });
}

/** The machine a benchmark ran on, for its results (plus the versions of the tools it compared). */
export function machine(tools = {}) {
  return { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, ...tools };
}

/** The median of numbers (the upper one of two middles). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
