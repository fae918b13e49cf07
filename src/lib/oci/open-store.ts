/** Opens the store a target names: a registry repository or an OCI layout directory. */
import type { Logger } from '../core/logger';
import { OciLayout } from './layout';
import type { Credentials } from './registry-client';
import { RegistryStore } from './registry-store';
import type { OciStore } from './store';
import type { Target } from './target';
import type { TransferLimits } from './transfer-limits';

export interface StoreOptions {
  logger: Logger;
  credentials?: Credentials | undefined;
  plainHttp?: boolean | undefined;
  chunkSize?: number | undefined;
  mountFrom?: string[] | undefined;
  limits?: TransferLimits | undefined;
  allowedRealms?: readonly string[] | undefined;
  /** Create a layout that does not exist yet (publishing); pulling needs one that does. */
  create: boolean;
}

export async function openStore(target: Target, options: StoreOptions): Promise<{ store: OciStore; reference: string | undefined }> {
  if (target.kind === 'registry') {
    const store = new RegistryStore(target.ref, options.logger, {
      credentials: options.credentials,
      plainHttp: options.plainHttp,
      chunkSize: options.chunkSize,
      mountFrom: options.mountFrom,
      limits: options.limits,
      allowedRealms: options.allowedRealms,
    });
    return { store, reference: target.ref.digest ?? target.ref.tag };
  }
  return { store: await OciLayout.open(target.dir, { create: options.create }), reference: target.digest ?? target.tag };
}
