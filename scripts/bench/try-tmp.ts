import { spawnSync } from 'node:child_process';
import { startProvider } from './provider.js';
import { runHerald } from './send-run.js';
spawnSync('npx', ['tsc', '-b', 'apps/worker'], { stdio: 'inherit' });
const [latency, count, ...configs] = process.argv.slice(2);
const provider = await startProvider(Number(latency));
for (const config of configs) {
  const [concurrency, batchSize] = config.split('x').map(Number);
  const run = await runHerald({ provider, concurrency: concurrency!, batchSize: batchSize!, count: Number(count), ratePerSecond: 10000 });
  console.log(JSON.stringify({ config, rate: Math.round(run.sendsPerSecond), requests: (run as any).provider?.requests ?? (run as any).requests, cpu: run.workerCpuPercent, rss: run.workerRssPeakMb, running: (run as any).jobsRunningAverage, loop: (run as any).eventLoopP99MaxMs, send: (run as any).sendAnswerMs }));
}
await provider.close();
process.exit(0);
