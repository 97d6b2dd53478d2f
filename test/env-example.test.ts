import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig as loadMailSinkConfig } from '../apps/mail-sink/src/config.js';
import { loadConfig as loadWebConfig } from '../apps/web/src/config.js';
import { loadConfig as loadWorkerConfig } from '../apps/worker/src/config.js';

// Read exactly as `node --env-file-if-exists=.env` reads a copied .env.example.
const example = parseEnv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'));

describe('.env.example, copied to .env', () => {
  it('is accepted by every process as it stands', () => {
    expect(() => loadWebConfig(example)).not.toThrow();
    expect(() => loadWorkerConfig(example)).not.toThrow();
    expect(() => loadMailSinkConfig(example)).not.toThrow();
  });

  it('sends to the local mail sink, with the key the sink accepts, never to SendGrid', () => {
    const worker = loadWorkerConfig(example);
    const sink = loadMailSinkConfig(example);
    expect(worker.sendgrid.apiUrl).toBe(`http://localhost:${sink.port}`);
    expect(worker.sendgrid.apiKey).toBe(sink.apiKey);
    expect(worker.mail.from).toEqual({ email: 'newsletter@example.com', name: 'Herald' });
  });

  it('gives the admin token the README uses, and a metrics token', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const web = loadWebConfig(example);
    expect(readme).toContain(`Authorization: Bearer ${web.adminToken}`);
    expect(web.metricsToken).toBeDefined();
  });

  it('lists every variable docker-compose.yml passes to Herald', () => {
    const compose = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
    const interpolated = [...compose.matchAll(/\$\{([A-Z_]+):-/g)].map((match) => match[1]!);
    const documented = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    for (const name of new Set(interpolated)) expect(documented, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});
