import { describe, expect, it } from 'vitest';
import { pendingCleanups, registerCleanup, runCleanups } from './cleanup';

describe('cleanups', () => {
  it('runs what is still registered, last first, once; a failing one does not stop the rest', async () => {
    const ran: string[] = [];
    registerCleanup(() => void ran.push('first'));
    const done = registerCleanup(() => void ran.push('unregistered'));
    registerCleanup(() => {
      throw new Error('fails');
    });
    registerCleanup(async () => void ran.push('last'));
    done();
    await runCleanups();
    expect(ran).toEqual(['last', 'first']);
    expect(pendingCleanups()).toBe(0);
    await runCleanups();
    expect(ran).toEqual(['last', 'first']);
  });

  it('gives up on a cleanup that hangs', async () => {
    registerCleanup(() => new Promise(() => undefined));
    const started = Date.now();
    await runCleanups(200);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
