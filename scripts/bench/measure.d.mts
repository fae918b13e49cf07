export interface Measurement {
  seconds: number;
  peakRssMiB: number;
  peakOwnRssMiB: number;
  code: number;
}
export function measure(
  cmd: string,
  args: readonly string[],
  options?: { env?: Record<string, string>; stdout?: number | 'ignore' | 'inherit'; cwd?: string },
): Promise<Measurement>;
export function machine(
  tools?: Record<string, string | undefined>,
): { cores: number; cpu: string | undefined; memoryGiB: number; node: string } & Record<string, unknown>;
export function median(xs: readonly number[]): number;
