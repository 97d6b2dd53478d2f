/**
 * What the browser tests share: a Chromium launched the same way, the app served on a free port,
 * logging in to the admin, and screenshots in test-artifacts/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '@herald/shared';
import type { Express } from 'express';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Role } from '../../apps/web/src/team/roles.js';
import { makeUser } from './team.js';
import { adminEmail, adminPassword } from './web.js';

/** Git-ignored; the admin's pages as the browser tests leave them. */
export const adminScreenshotDir = fileURLToPath(new URL('../../test-artifacts/admin/', import.meta.url));

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const launchArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A Chromium with a fresh, temporary profile (Playwright gives every launch its own). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath, args: launchArgs });
}

export type AdminBrowser = {
  baseUrl: string;
  /** One persistent profile for the file, so a session cookie outlives the page that made it. */
  context: BrowserContext;
  /** Closes the browser, removes its profile and stops the server. */
  close(): Promise<void>;
};

export type AdminBrowserOptions = {
  /** Names the profile's temporary directory. */
  name: string;
  viewport?: { width: number; height: number };
  timezoneId?: string;
  acceptDownloads?: boolean;
};

/** Serves the app on a free port of 127.0.0.1 and opens a Chromium with a profile of its own. */
export async function startAdminBrowser(app: Express, options: AdminBrowserOptions): Promise<AdminBrowser> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profileDir = mkdtempSync(join(tmpdir(), `herald-${options.name}-chromium-`));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      args: launchArgs,
      viewport: options.viewport ?? desktop,
      locale: 'en-GB',
      ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
      ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
    });
  } catch (error) {
    rmSync(profileDir, { recursive: true, force: true });
    server.close();
    throw error;
  }
  return {
    baseUrl,
    context,
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
      server.close();
    },
  };
}

export type Login = { email?: string; password?: string };

/** Fills in the login form on the page and submits it; the owner made at startup by default. */
export async function submitLogin(page: Page, { email = adminEmail, password = adminPassword }: Login = {}) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Logs in from the login page and waits for the admin's front page. */
export async function logIn(page: Page, baseUrl: string, login: Login = {}) {
  await page.goto(`${baseUrl}/admin/login`);
  await submitLogin(page, login);
  await page.waitForURL(`${baseUrl}/admin`);
}

export type OpenAdminPage = Login & {
  /** Logs in as a new user of this role (made in `db`) rather than as `email`. */
  role?: Role;
  db?: Db;
  /** The page's width: 390 is a phone's screen (844 px high), anything else the profile's height. */
  width?: number;
};

/** A new tab of the browser's profile, logged in to the admin and on its front page. */
export async function openAdminPage(browser: AdminBrowser, options: OpenAdminPage = {}): Promise<Page> {
  let login: Login = options;
  if (options.role) {
    if (!options.db) throw new Error('openAdminPage: a role needs the db to make its user in');
    login = await makeUser(options.db, options.role);
  }
  const page = await browser.context.newPage();
  if (options.width) await page.setViewportSize(options.width === phone.width ? phone : { width: options.width, height: page.viewportSize()?.height ?? desktop.height });
  await logIn(page, browser.baseUrl, login);
  return page;
}

/** True when the page is wider than its viewport, so that a reader would scroll sideways. */
export function scrollsSideways(page: Page): Promise<boolean> {
  // Evaluated in the page; written as text, as this project type-checks without DOM types.
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

/** Where a screenshot called `name` goes: `name`.png in `dir`, made if missing. */
export function screenshotPath(name: string, dir = adminScreenshotDir): string {
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** Saves a screenshot of the whole page, as `name`.png in `dir`. */
export async function screenshot(page: Page, name: string, dir = adminScreenshotDir) {
  await page.screenshot({ path: screenshotPath(name, dir), fullPage: true });
}
