import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The base images docker-compose.yml and the Dockerfiles name. */
export const baseImages = ['node:22-bookworm-slim', 'postgres:17', 'redis:7'];

/**
 * Runs a command and resolves with its stdout; rejects with its output on a non-zero exit.
 * `echo` streams the output to ours as it comes (long builds), and it is kept for the error.
 */
export function run(command: string, args: string[], options: { echo?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
    });
  });
}

/** Whether a command exits 0, without output. */
export function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: repoRoot }, (error) => resolve(!error));
  });
}

/**
 * Makes sure a Docker engine answers and the base images are there. Where they are not, and the
 * workplace's offline-docker tool exists, it runs that tool (it installs the engine and builds
 * local stand-ins for the base images); elsewhere compose pulls the real images from Docker Hub.
 */
export async function ensureDocker(): Promise<void> {
  const engine = await succeeds('docker', ['info']);
  const missing: string[] = [];
  if (engine) {
    for (const image of baseImages) if (!(await succeeds('docker', ['image', 'inspect', image]))) missing.push(image);
  }
  if (engine && missing.length === 0) return;

  const setup = process.env.OFFLINE_DOCKER_SETUP ?? fileURLToPath(new URL('../../../shared/tools/offline-docker/setup', import.meta.url));
  if (existsSync(setup)) {
    console.log(`compose-smoke: ${engine ? `base images missing (${missing.join(', ')})` : 'no Docker engine answers'}; running ${setup}`);
    await run(setup, [], { echo: true });
    return;
  }
  if (!engine) {
    throw new Error(
      `No Docker engine answers (docker info failed), and the offline-docker setup tool is not at ${setup}. ` +
        'Start Docker, or set OFFLINE_DOCKER_SETUP to the path of offline-docker/setup.',
    );
  }
  console.log(`compose-smoke: base images missing (${missing.join(', ')}); compose will pull them from the registry`);
}

/** `docker compose` for one project, with an env file (`/dev/null`: none at all). */
export function composeFor(project: string, envFile: string) {
  // BuildKit fetches a frontend image where it cannot reach a registry; the classic builder does not.
  const env = { DOCKER_BUILDKIT: process.env.DOCKER_BUILDKIT ?? '0', COMPOSE_DOCKER_CLI_BUILD: process.env.COMPOSE_DOCKER_CLI_BUILD ?? '0' };
  const base = ['compose', '--project-name', project, '--project-directory', repoRoot, '--env-file', envFile];
  return (args: string[], options: { echo?: boolean } = {}) => run('docker', [...base, ...args], { ...options, env });
}

export type Compose = ReturnType<typeof composeFor>;

/** Everything of `project` that Docker still holds: containers, networks, volumes. */
export async function leftovers(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const lines = async (args: string[]) => (await run('docker', args)).split('\n').filter(Boolean);
  return [
    ...(await lines(['ps', '-a', '--filter', label, '--format', 'container {{.Names}}'])),
    ...(await lines(['network', 'ls', '--filter', label, '--format', 'network {{.Name}}'])),
    ...(await lines(['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}'])),
  ];
}
