export interface Measurement {
  seconds: number;
  peakRssMiB: number;
  peakOwnRssMiB: number;
  code: number;
}
export function measure(cmd: string, args: readonly string[], options?: { env?: Record<string, string>; stdout?: number | 'ignore' | 'inherit' }): Promise<Measurement>;
