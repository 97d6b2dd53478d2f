import request from 'supertest';
import type { Express } from 'express';
import { expect } from 'vitest';
import { adminEmail, adminPassword } from './web.js';

/** The CSRF token of the first form on an admin page. */
export function csrfFrom(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  expect(token).toBeDefined();
  return token!;
}

/** A browser-like agent (keeps cookies) that has logged in, by default as the first owner. */
export async function loggedInAgent(app: Express, email = adminEmail, password = adminPassword) {
  const agent = request.agent(app);
  const page = await agent.get('/admin/login').expect(200);
  await agent.post('/admin/login').type('form').send({ _csrf: csrfFrom(page.text), email, password }).expect(303).expect('Location', '/admin');
  return agent;
}

type Agent = Awaited<ReturnType<typeof loggedInAgent>>;

/**
 * Writes a campaign on the compose page and confirms it on the review page, as an operator does.
 * Returns the campaign page's address.
 */
export async function composeAndConfirm(agent: Agent, fields: Record<string, string>): Promise<string> {
  const form = await agent.get('/admin/campaigns/new').expect(200);
  const saved = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'review', ...fields }).expect(303);
  const review = await agent.get(saved.headers.location!).expect(200);
  const started = await agent.post(saved.headers.location!.replace(/\/review$/, '/start')).type('form').send({ _csrf: csrfFrom(review.text) }).expect(303);
  return started.headers.location!.replace(/\?.*$/, '');
}
