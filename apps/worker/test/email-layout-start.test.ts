import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('an operator\'s email layout', () => {
  it('that leaves out the unsubscribe link stops the worker at start, saying so, before it takes any job', async () => {
    const layout = join(mkdtempSync(join(tmpdir(), 'herald-layout-')), 'layout.ejs');
    writeFileSync(layout, '<html><body><%- content %><p><%= postalAddress %></p></body></html>');
    const child = spawn(process.execPath, ['--conditions=herald-source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'silent',
        // Nothing listens here: the layout must be refused before any connection is tried.
        DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:1',
        SENDGRID_API_KEY: 'SG.test',
        MAIL_FROM: 'news@example.com',
        MAIL_POSTAL_ADDRESS: '1 Main St',
        EMAIL_LAYOUT_PATH: layout,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain(`Email layout ${layout} must show the unsubscribe link`);
    expect(output).not.toMatch(/ECONNREFUSED|worker started/);
  });
});
