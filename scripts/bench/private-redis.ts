/**
 * A Redis of one run's own (no persistence, noeviction) on a free port in 6390-6399, so the memory
 * it reports is the measured system's alone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { track } from './child-processes.js';

export type PrivateRedis = { url: string; pid: number; client: Redis; usedMemoryMb(): Promise<number>; close(): Promise<void> };

let nextPort = 6390;

export async function startPrivateRedis(): Promise<PrivateRedis> {
  for (let tries = 0; tries < 10; tries += 1) {
    const port = nextPort;
    nextPort = nextPort === 6399 ? 6390 : nextPort + 1;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];
    const server = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await new Promise<boolean>((resolve) => {
      server.on('exit', () => resolve(false));
      const poll = setInterval(() => {
        if (output.includes('Ready to accept connections')) {
          clearInterval(poll);
          resolve(true);
        }
      }, 20);
    });
    if (!ready) continue;
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url);
    return {
      url,
      pid: server.pid!,
      client,
      async usedMemoryMb() {
        const info = await client.info('memory');
        return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
      },
      async close() {
        client.disconnect();
        const exited = once(server, 'exit');
        server.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error('no free port for a private Redis in 6390-6399');
}
