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
 * Makes sure a Docker engine answers that can build the stack's images from `baseImages`. When
 * OFFLINE_DOCKER_SETUP names a script, it is run where no engine answers or a base image is
 * missing, to provide them (CI sets it; see .ci/run). Without it, an engine must answer; base
 * images it lacks are pulled from the registry by compose.
 */
export async function ensureDocker(): Promise<void> {
  const engine = await succeeds('docker', ['info']);
  const missing: string[] = [];
  if (engine) {
    for (const image of baseImages) if (!(await succeeds('docker', ['image', 'inspect', image]))) missing.push(image);
  }
  if (engine && missing.length === 0) return;

  const setup = process.env.OFFLINE_DOCKER_SETUP || undefined;
  if (setup) {
    if (!existsSync(setup)) throw new Error(`OFFLINE_DOCKER_SETUP names ${setup}, which does not exist.`);
    console.log(`compose-smoke: ${engine ? `base images missing (${missing.join(', ')})` : 'no Docker engine answers'}; running ${setup}`);
    await run(setup, [], { echo: true });
    if (!(await succeeds('docker', ['info']))) throw new Error(`No Docker engine answers after ${setup} ran (docker info failed).`);
    return;
  }
  if (!engine) {
    throw new Error(
      'No Docker engine answers (docker info failed). npm run test:compose needs a Docker engine that can build ' +
        `images from ${baseImages.join(', ')}: start one, or set OFFLINE_DOCKER_SETUP to a script that provides one.`,
    );
  }
  console.log(`compose-smoke: base images missing (${missing.join(', ')}); compose will pull them from the registry`);
}

/** `docker compose` for one project, with an env file (`/dev/null`: none at all). */
export function composeFor(project: string, envFile: string) {
  // BuildKit fetches a frontend image where it cannot reach a registry; the classic builder does not.
  const env = { DOCKER_BUILDKIT: process.env.DOCKER_BUILDKIT ?? '0', COMPOSE_DOCKER_CLI_BUILD: process.env.COMPOSE_DOCKER_CLI_BUILD ?? '0' };
  const base = ['compose', '--project-name', project, '--project-directory', repoRoot, '--env-file', envFile];
  // `env` adds variables compose interpolates into docker-compose.yml for this one command.
  return (args: string[], options: { echo?: boolean; env?: NodeJS.ProcessEnv } = {}) =>
    run('docker', [...base, ...args], { ...options, env: { ...env, ...options.env } });
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
