/** The bench's side of the provider stand-in (provider-stand-in.ts): start it, read and reset its counts. */
import { startChild, stopChild, tsxNode } from './child-processes.js';

export type ProviderStats = {
  requests: number;
  /** Personalizations received, and how many distinct recipients they named. */
  recipients: number;
  distinctRecipients: number;
  /** Recipients named more than once. */
  duplicates: number;
  inFlightAverage: number;
  inFlightPeak: number;
  /** Epoch ms of the first request and of the last answer. */
  firstAt: number;
  lastAt: number;
};

export type Provider = { url: string; latencyMs: number; stats(): Promise<ProviderStats>; reset(): Promise<void>; close(): Promise<void> };

export async function startProvider(latencyMs: number): Promise<Provider> {
  const child = startChild([...tsxNode, 'scripts/bench/provider-stand-in.ts'], { LATENCY_MS: String(latencyMs) });
  const { port } = JSON.parse(await child.waitForLine((line) => line.startsWith('{"port"'))) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    latencyMs,
    async stats() {
      return (await (await fetch(`${url}/stats`)).json()) as ProviderStats;
    },
    async reset() {
      await fetch(`${url}/stats`, { method: 'DELETE' });
    },
    close: () => stopChild(child),
  };
}

/** Every recipient of `count` reached the provider exactly once. */
export function eachOnce(stats: ProviderStats, count: number): boolean {
  return stats.recipients === count && stats.distinctRecipients === count && stats.duplicates === 0;
}
