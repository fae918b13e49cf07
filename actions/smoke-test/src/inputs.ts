/** The smoke-test action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBootTestInputs, type ParsedBootTestInputs } from '../../../src/lib/boot/boot-test-inputs';

export interface SmokeTestInputs extends ParsedBootTestInputs {
  source: string;
}

export function parseSmokeTestInputs(get: (name: string) => string): SmokeTestInputs {
  const source = get('release-dir');
  if (!source) throw new PiImageError('INPUT_INVALID', 'input release-dir is required');
  const parsed = parseBootTestInputs(
    {
      checks: get('checks'),
      'data-label': get('data-label'),
      'data-mount': get('data-mount'),
      'allow-failed': [get('allow-failed')],
      network: get('network'),
      reboots: get('reboots'),
      'time-limit': get('time-limit'),
      stall: get('stall'),
      accel: get('accel'),
      cpus: get('cpus'),
      memory: get('memory'),
      'expected-version': get('expected-version'),
      'evidence-dir': get('evidence-dir'),
      mirror: get('mirror'),
      suite: get('suite'),
      keyring: get('keyring'),
      'kernel-deb': get('kernel-deb'),
    },
    (name) => `input ${name}`,
  );
  return { ...parsed, source };
}
