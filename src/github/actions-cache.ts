/** GitHub's cache service as the library's CacheStore (only on GitHub's runners). */
import * as cache from '@actions/cache';
import type { CacheStore } from '../lib/build/cache-keys';

export const actionsCacheStore: CacheStore = {
  restore: (paths, key, restoreKeys) => cache.restoreCache(paths, key, restoreKeys),
  save: async (paths, key) => {
    await cache.saveCache(paths, key);
  },
};
