/**
 * The pi-gen this project builds with: one place, vendor/pi-gen.json, which the
 * build reads, the metadata reports, and a test holds equal to the
 * vendor/pi-gen submodule pointer. Bundled into the CLI and the actions, so a
 * repository without the submodule checks out the same commit.
 */
import pin from '../../../vendor/pi-gen.json';

export interface PiGenPin {
  repository: string;
  branch: string;
  commit: string;
  tag: string;
}

export const PI_GEN_PIN: PiGenPin = pin;
