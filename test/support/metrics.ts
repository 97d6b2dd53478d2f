import type { Registry } from 'prom-client';

/** The value of one series (`name{labels}` as Prometheus prints it) in Prometheus text; 0 when not reported yet. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The value of one series in a registry; 0 when never counted. */
export async function seriesValue(registry: Registry, series: string): Promise<number> {
  return sample(await registry.metrics(), series);
}
