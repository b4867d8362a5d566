/*
 * edge.test.mjs - the console's edge in a real browser: the first page
 * loads with no console error or failed request, under the server's CSP
 * (which chromium enforces: an inline script is refused), axe finds
 * nothing at WCAG 2.1 AA at both widths, the first load transfers under
 * 250 KB, and the harness's two ways in (the screens, the API) give a
 * session the console can use.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
	BASE, assertClean, browser, checkScreen, enrolAndLogin, enrolViaApi,
	expect, firstLoad, loginViaApi, newPage, withBrowser,
} from './lib.mjs';

const CSP = "default-src 'self'; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

withBrowser();

test('the first page loads clean under the CSP', async () => {
	const page = await newPage(browser);
	const r = await page.goto(BASE + '/', {waitUntil: 'networkidle'});
	assert.equal(r.status(), 200);
	const h = r.headers();
	assert.equal(h['content-security-policy'], CSP);
	assert.equal(h['x-content-type-options'], 'nosniff');
	assert.equal(h['referrer-policy'], 'no-referrer');
	assert.equal(h['content-type'], 'text/html; charset=utf-8');
	assert.match(h['etag'], /^"[0-9a-f]{64}(-gz)?"$/);
	/* the stylesheet arrived and applies: the Utrecht tokens are set */
	const font = await page.evaluate(() =>
		getComputedStyle(document.documentElement)
			.getPropertyValue('--utrecht-document-font-family'));
	assert.ok(font.trim() !== '', 'the Utrecht design tokens are not set');
	await checkScreen(page, 'start');
	assertClean(page);
	await page.context().close();
});

test('the browser enforces the CSP: no inline script runs', async () => {
	const page = await newPage(browser);
	await page.goto(BASE + '/', {waitUntil: 'networkidle'});
	const violations = [];
	page.on('console', (m) => {
		if (/Content Security Policy/.test(m.text()))
			violations.push(m.text());
	});
	/* clear what the collector saw of the refusal: it is the point */
	const ran = await page.evaluate(() => new Promise((resolve) => {
		window.nrmInline = false;
		document.addEventListener('securitypolicyviolation',
			(e) => resolve({blocked: e.violatedDirective}), {once: true});
		const s = document.createElement('script');
		s.textContent = 'window.nrmInline = true;';
		document.body.append(s);
		setTimeout(() => resolve({ran: window.nrmInline}), 1000);
	}));
	assert.deepEqual(Object.keys(ran), ['blocked']);
	assert.match(ran.blocked, /^script-src/);
	assert.equal(await page.evaluate(() => window.nrmInline), false);
	await page.context().close();
});

test('the first load transfers under 250 KB', async () => {
	const {bytes, answers} = await firstLoad(browser, '/');
	assert.ok(answers >= 2, `only ${answers} answers`);
	assert.ok(bytes < 250 * 1024, `first load ${bytes} bytes`);
});

test('a session made through the API works in the console', async () => {
	const page = await newPage(browser);
	await enrolViaApi(page, 'analyst');
	const login = await loginViaApi(page, 'analyst');
	assert.match(login.csrf_token, /\S{16,}/);
	const s = await page.request.get(BASE + '/v1/session');
	assert.equal(s.status(), 200);
	assert.equal((await s.json()).person.login, 'b-analyst');
	/* the CSRF token is where the console's api.js looks for it */
	assert.ok(await page.evaluate(() => sessionStorage.getItem('nrm.csrf')));
	/* an unsafe request with cookie, token and Origin passes the edge */
	const tok = await page.evaluate(() => sessionStorage.getItem('nrm.csrf'));
	const out = await page.request.delete(BASE + '/v1/session', {
		headers: {'X-CSRF-Token': tok, Origin: BASE}});
	assert.equal(out.status(), 204);
	expect(page, 401, '/v1/session');
	assertClean(page);
	await page.context().close();
});

test('enrolment and login through the screens', async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'auditor');
	const s = await page.request.get(BASE + '/v1/session');
	assert.equal(s.status(), 200);
	assert.equal((await s.json()).person.role, 'auditor');
	assertClean(page);
	await page.context().close();
});
