/** A repository in a registry as an OciStore, over the streaming RegistryClient. */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/logger';
import type { Descriptor } from './media-types';
import { formatReference, type OciReference } from './reference';
import { digestOf, type BlobSource } from './blob-source';
import { RegistryClient, type RegistryClientOptions } from './registry-client';
import { MANIFEST_TYPES } from './media-types';
import type { OciStore, StoredManifest } from './store';

export interface RegistryStoreOptions extends Omit<RegistryClientOptions, 'registry' | 'logger'> {
  /** Repositories of the same registry to mount blobs from before uploading them. */
  mountFrom?: string[] | undefined;
}

export class RegistryStore implements OciStore {
  readonly label: string;
  readonly client: RegistryClient;
  private readonly mountFrom: string[];

  constructor(
    readonly reference: OciReference,
    logger: Logger,
    options: RegistryStoreOptions = {},
  ) {
    this.client = new RegistryClient({ ...options, registry: reference.registry, logger });
    this.label = `${reference.registry}/${reference.repository}`;
    this.mountFrom = (options.mountFrom ?? []).filter((r) => r !== reference.repository);
  }

  pinned(digest: string): string {
    return formatReference({ registry: this.reference.registry, repository: this.reference.repository, digest });
  }

  hasBlob(digest: string): Promise<boolean> {
    return this.client.blobExists(this.reference.repository, digest);
  }

  async putBlob(source: BlobSource): Promise<'exists' | 'stored' | 'mounted'> {
    const repo = this.reference.repository;
    if (await this.client.blobExists(repo, source.descriptor.digest)) return 'exists';
    for (const from of this.mountFrom) {
      if (await this.client.mountBlob(repo, source.descriptor.digest, from)) return 'mounted';
    }
    return (await this.client.uploadBlob(repo, source)) === 'exists' ? 'exists' : 'stored';
  }

  putBlobStream(open: () => AsyncIterable<Buffer>): Promise<{ digest: string; size: number }> {
    return this.client.uploadStream(this.reference.repository, open);
  }

  openBlob(digest: string, start?: number, end?: number): Readable {
    return this.client.openBlob(this.reference.repository, digest, start, end);
  }

  readBlob(descriptor: { digest: string; size: number }): AsyncIterable<Buffer> {
    return this.client.readBlob(this.reference.repository, descriptor);
  }

  putManifest(bytes: Buffer, mediaType: string, tag?: string): Promise<{ digest: string; subjectAccepted: boolean }> {
    return this.client.pushManifest(this.reference.repository, tag ?? digestOf(bytes), mediaType, bytes);
  }

  getManifest(reference: string): Promise<StoredManifest> {
    return this.client.getManifest(this.reference.repository, reference, MANIFEST_TYPES);
  }

  resolveTag(tag: string): Promise<string | undefined> {
    return this.client.resolveManifest(this.reference.repository, tag, MANIFEST_TYPES);
  }

  referrersApi(digest: string): Promise<Descriptor[] | undefined> {
    return this.client.getReferrers(this.reference.repository, digest);
  }
}
