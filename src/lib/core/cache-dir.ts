/** Where pi-image keeps what it fetched or made once (pi-gen checkouts, the boot kit, Debian packages): $XDG_CACHE_HOME/pi-image-release, else ~/.cache/pi-image-release. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCacheDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'pi-image-release');
}
