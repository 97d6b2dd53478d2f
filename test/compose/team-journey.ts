/**
 * The team journey on the running stack, over HTTP from outside as the people would: the first
 * owner logs in to /admin, an editor is invited with `POST /users`, the invitation email reaches the
 * mail sink, the editor follows its link and chooses a password (the link then stops working), logs
 * in, makes a personal API token on the account page, and uses it: an editor's routes answer, an
 * owner's answer 403 and change nothing. The audit log, read with ADMIN_TOKEN, records the
 * invitation, the join, the logins and the token.
 *
 * The admin pages are driven as a browser drives them (a cookie jar, each form's CSRF token read
 * from the page it is on), because the API is bearer-only: the session cookie is scoped to /admin.
 * The base addresses are parameters, so the journey also runs against processes started by hand.
 */
import { admin, check, json, sinkUrl, waitFor, webUrl } from './journey.js';
import type { SinkMessage } from './journey.js';

export type TeamUrls = { web: string; sink: string };

/** The first owner docker-compose.yml and .env.example make. */
const owner = { email: 'admin@localhost', password: 'dev-password-change-me' };
const editor = { email: 'editor@team.smoke.example', name: 'Eddie Editor', password: 'a long enough editor password' };
const tokenName = 'smoke script';

type AuditEntry = { id: string; actor: string; action: string; target: { type: string; id: string | null; label: string | null } | null; details: Record<string, unknown> };

function step(message: string): void {
  console.log(`compose-smoke: team: ${message}`);
}

/**
 * What a browser keeps for one site: its cookies (by name; the server scopes them to paths, which
 * matters to it, not to this one-site jar), sent back on every request, and no redirects followed,
 * so each answer's status and Location can be checked.
 */
class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  get(path: string): Promise<Response> {
    return this.request(path, { method: 'GET' });
  }

  /** Posts a form as a browser submits it: urlencoded, with the page's CSRF token. */
  postForm(path: string, csrf: string, fields: Record<string, string>): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
    });
  }

  /** GETs a page that must answer 200 and returns its HTML. */
  async page(path: string, what: string): Promise<string> {
    const res = await this.get(path);
    const html = await res.text();
    check(res.status === 200, `${what} (GET ${path}): expected 200, got ${res.status} ${res.headers.get('location') ?? ''} ${html.slice(0, 300)}`);
    return html;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(`${this.base}${path}`, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookie && { cookie }) } });
    for (const line of res.headers.getSetCookie()) this.keep(line);
    return res;
  }

  /** A cookie set, or cleared (cookie-session clears with an expiry in the past on logout). */
  private keep(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';').map((part) => part.trim());
    const at = pair.indexOf('=');
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    const expires = attributes.find((attribute) => /^expires=/i.test(attribute))?.slice('expires='.length);
    const maxAge = attributes.find((attribute) => /^max-age=/i.test(attribute))?.slice('max-age='.length);
    const cleared = value === '' || (expires !== undefined && new Date(expires).getTime() <= Date.now()) || (maxAge !== undefined && Number(maxAge) <= 0);
    if (cleared) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The CSRF token of a page's forms (one per session, so any form's will do). */
function csrfFrom(html: string, what: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  check(token, `a CSRF token on ${what}`);
  return token;
}

/** Expects a form post to redirect (303) to `location`, as a successful login or join does. */
async function expectRedirect(res: Response, location: string, what: string): Promise<void> {
  const body = await res.text();
  check(res.status === 303 && res.headers.get('location') === location, `${what}: expected 303 to ${location}, got ${res.status} ${res.headers.get('location') ?? ''} ${body.slice(0, 300)}`);
}

/** Logs in on /admin/login; the admin bar then names the user and their role. */
async function logIn(urls: TeamUrls, person: { email: string; password: string }, role: string): Promise<Browser> {
  const browser = new Browser(urls.web);
  const form = await browser.page('/admin/login', 'the login page');
  await expectRedirect(await browser.postForm('/admin/login', csrfFrom(form, 'the login page'), { email: person.email, password: person.password }), '/admin', `log in as ${person.email}`);
  await expectAdminBar(browser, person.email, role);
  return browser;
}

async function expectAdminBar(browser: Browser, email: string, role: string): Promise<void> {
  const home = await browser.page('/admin', 'the admin front page');
  check(home.includes(`${email} · ${role}`), `the admin bar names ${email} as ${role}`);
}

const bearer = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
});

/** The invitation link in the email the worker sent through the sink; it is the only way in. */
async function invitationLink(urls: TeamUrls, email: string): Promise<string> {
  const pattern = new RegExp(`${urls.web.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/admin/invitations/[A-Za-z0-9_-]{43})`);
  const message = await waitFor(`the invitation email to ${email} in the sink`, async () => {
    const messages = await json<SinkMessage[]>(await fetch(`${urls.sink}/api/messages?to=${encodeURIComponent(email)}`), 200, 'sink messages');
    return messages.find((candidate) => pattern.test(candidate.text ?? ''));
  }, 60_000);
  return pattern.exec(message.text ?? '')![1]!;
}

/** Follows the link, reads the form's CSRF token and chooses a password: the join logs them in. */
async function acceptInvitation(urls: TeamUrls, path: string): Promise<Browser> {
  const browser = new Browser(urls.web);
  const form = await browser.page(path, 'the invitation page');
  check(form.includes('as an editor') && form.includes(editor.email), `the invitation page says who joins as what: ${form.slice(0, 500)}`);
  const joined = await browser.postForm(path, csrfFrom(form, 'the invitation page'), { name: editor.name, password: editor.password, passwordAgain: editor.password });
  await expectRedirect(joined, '/admin', 'joining through the invitation');
  await expectAdminBar(browser, editor.email, 'editor');
  return browser;
}

/** Creates an API token on the account page; the token is on that answer alone. */
async function createTokenOnAccountPage(browser: Browser): Promise<string> {
  const account = await browser.page('/admin/account', 'the account page');
  const res = await browser.postForm('/admin/account/tokens', csrfFrom(account, 'the account page'), { name: tokenName, role: 'editor', expires: '' });
  const page = await res.text();
  check(res.status === 201, `creating a token on the account page: expected 201, got ${res.status} ${page.slice(0, 300)}`);
  const token = /herald_[A-Za-z0-9_-]{43}/.exec(page)?.[0];
  check(token, 'the new token is shown on the page');
  return token;
}

/** An editor reads campaigns and subscribers; the audit log and the team are an owner's. */
async function useToken(urls: TeamUrls, token: string): Promise<void> {
  await json(await fetch(`${urls.web}/campaigns`, bearer(token)), 200, 'GET /campaigns with the editor token');
  await json(await fetch(`${urls.web}/subscribers`, bearer(token)), 200, 'GET /subscribers with the editor token');
  const audit = await json<{ error: { code: string } }>(await fetch(`${urls.web}/audit`, bearer(token)), 403, 'GET /audit with the editor token');
  check(audit.error.code === 'forbidden', `GET /audit refused as forbidden: ${JSON.stringify(audit)}`);
  const invite = await json<{ error: { code: string } }>(
    await fetch(`${urls.web}/users`, bearer(token, { method: 'POST', body: JSON.stringify({ email: 'crony@team.smoke.example', role: 'owner' }) })),
    403,
    'POST /users with the editor token',
  );
  check(invite.error.code === 'forbidden', `POST /users refused as forbidden: ${JSON.stringify(invite)}`);
  // Refused before the body is read: nobody was invited.
  const team = await json<{ users: { email: string }[] }>(await fetch(`${urls.web}/users`, admin()), 200, 'GET /users');
  check(!team.users.some((user) => user.email === 'crony@team.smoke.example'), 'the refused invitation made no user');
}

async function auditEntries(urls: TeamUrls, query: Record<string, string>): Promise<AuditEntry[]> {
  const params = new URLSearchParams({ limit: '200', ...query });
  return (await json<{ entries: AuditEntry[] }>(await fetch(`${urls.web}/audit?${params}`, admin()), 200, `GET /audit?${params}`)).entries;
}

/** The log says who invited whom (ADMIN_TOKEN), who joined, logged in and made which token. */
async function checkAudit(urls: TeamUrls, editorId: string): Promise<void> {
  const invited = (await auditEntries(urls, { action: 'user.invited' })).filter((entry) => entry.target?.id === editorId);
  check(invited.length === 1 && invited[0]!.actor === 'ADMIN_TOKEN' && invited[0]!.details.role === 'editor', `one invitation of the editor by ADMIN_TOKEN: ${JSON.stringify(invited)}`);
  check(!(await auditEntries(urls, {})).some((entry) => entry.target?.label === 'crony@team.smoke.example'), 'the refused invitation recorded nothing');

  // By the editor's email: their own entries, their token's requests included.
  const byEditor = await auditEntries(urls, { actor: editor.email });
  const actions = byEditor.map((entry) => entry.action);
  const joined = byEditor.find((entry) => entry.action === 'user.joined');
  check(joined?.actor === editor.email && joined.target?.id === editorId && joined.details.role === 'editor', `the join is recorded: ${JSON.stringify(byEditor)}`);
  check(actions.includes('login.succeeded'), `the editor's login is recorded: ${actions.join(', ')}`);
  const created = byEditor.find((entry) => entry.action === 'token.created');
  check(created?.actor === editor.email && created.target?.label === tokenName && created.details.role === 'editor', `the token's creation is recorded: ${JSON.stringify(created)}`);
  // Newest first: the join came before the token.
  check(BigInt(joined.id) < BigInt(created.id), 'the join is recorded before the token');

  const ownerLogins = await auditEntries(urls, { actor: owner.email, action: 'login.succeeded' });
  check(ownerLogins.length >= 1, "the owner's login is recorded");
}

export async function teamJourney(urls: TeamUrls = { web: webUrl, sink: sinkUrl }): Promise<void> {
  step(`the first owner (${owner.email}) logs in to /admin`);
  const ownerBrowser = await logIn(urls, owner, 'owner');

  step(`invite ${editor.email} as an editor with POST /users`);
  const invitee = await json<{ id: string; status: string; role: string }>(
    await fetch(`${urls.web}/users`, admin({ method: 'POST', body: JSON.stringify({ email: editor.email, role: 'editor' }) })),
    201,
    'POST /users',
  );
  check(invitee.status === 'invited' && invitee.role === 'editor', `invited as an editor: ${JSON.stringify(invitee)}`);
  check((await ownerBrowser.page('/admin/users', 'the team page')).includes(editor.email), 'the owner sees the invitee on the team page');

  step('the invitation email reaches the sink; its link leads to choosing a password');
  const link = await invitationLink(urls, editor.email);
  await acceptInvitation(urls, link);
  const again = await new Browser(urls.web).get(link);
  check(again.status === 404, `the link works once: followed again it answers 404 (got ${again.status})`);

  step('the editor logs in, makes an API token on the account page and uses it');
  const editorBrowser = await logIn(urls, editor, 'editor');
  const token = await createTokenOnAccountPage(editorBrowser);
  await useToken(urls, token);

  step('the audit log (GET /audit with ADMIN_TOKEN) records the invitation, the join and the token');
  await checkAudit(urls, invitee.id);
}
