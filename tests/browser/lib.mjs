/*
 * lib.mjs - the browser tests' harness (docs/console.md): chromium via
 * playwright-core (Debian's /usr/bin/chromium, no browser download),
 * the fixture tests/browser/run.sh wrote (persons and their enrolment
 * codes), enrolment and login through the console's own screens (labels
 * from the message catalogue) or, as a fallback, through the API,
 * TOTP codes (RFC 6238, node:crypto), axe (WCAG 2.1 AA), screenshots at
 * 1280 and 375 px, a collector that fails a test on any console
 * error or failed request, and what several test files do: open a
 * screen afresh (go), switch the language (switchTo), fill in a
 * catalogue template (fill), report a fresh signal (reportSignal).
 *
 * Environment (set by run.sh): NRM_URL (https://127.0.0.1:PORT),
 * NRM_FIXTURE (the JSON file), NRM_SHOTS (screenshot folder),
 * NRM_WEB_ROOT (the served tree), NRM_CHROMIUM (default
 * /usr/bin/chromium), NRM_BROWSER_VIA=api (enrol and log in through
 * the API instead of the screens).
 */
import assert from 'node:assert/strict';
import {createHmac, randomUUID} from 'node:crypto';
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {after, before} from 'node:test';
import {fileURLToPath} from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
/* The packages live in web/node_modules (web/package-lock.json). */
const require = createRequire(join(ROOT, 'web', 'package.json'));
const {chromium} = require('playwright-core');
/* axe-core as @axe-core/playwright pins it (its dependency) */
const axe = createRequire(require.resolve('@axe-core/playwright'))('axe-core');

export const BASE = process.env.NRM_URL;
export const FIXTURE = process.env.NRM_FIXTURE;
export const SHOTS = process.env.NRM_SHOTS ||
	join(ROOT, 'build', 'screenshots');
export const WIDTHS = [1280, 375];

/* The tree nrmd serves (run.sh sets NRM_WEB_ROOT; make web builds it). */
export const WEBROOT = process.env.NRM_WEB_ROOT ||
	join(ROOT, 'build', 'web');

/*
 * A message catalogue of the served tree (i18n/<lang>.js, an ES module
 * exporting a flat object), for labels and names.  Imported from its
 * text: build/web has no package.json saying its .js files are modules.
 */
export async function catalogue(lang = 'nl') {
	const text = readFileSync(join(WEBROOT, 'i18n', lang + '.js'), 'utf8');
	const url = 'data:text/javascript;charset=utf-8,' +
		encodeURIComponent(text);
	return (await import(url)).default;
}

/* --- browser ----------------------------------------------------------- */

export async function launch() {
	assert.ok(BASE, 'NRM_URL is not set (run tests/browser/run.sh)');
	return chromium.launch({
		executablePath: process.env.NRM_CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-dev-shm-usage'],
	});
}

/*
 * A fresh context and page (own cookies and sessionStorage) with the
 * collector attached: page.problems lists console errors, page errors,
 * failed requests and 5xx answers; assertClean(page) fails on any.
 * `expect` lists [status, urlPart] answers a test provokes on purpose
 * (a 401 of a wrong password, ...): those are not problems.
 */
export async function newPage(browser, {width = 1280, lang = 'nl'} = {}) {
	const context = await browser.newContext({
		ignoreHTTPSErrors: true,
		viewport: {width, height: 900},
		locale: lang === 'en' ? 'en-GB' : 'nl-NL',
		timezoneId: 'Europe/Amsterdam',
	});
	const page = await context.newPage();
	collect(page);
	return page;
}

export function collect(page) {
	page.problems = [];
	page.expected = [];
	page.on('console', (m) => {
		if (m.type() === 'error' && !expectedConsole(page, m.text()))
			page.problems.push('console error: ' + m.text());
	});
	page.on('pageerror', (e) => page.problems.push('page error: ' + e));
	page.on('requestfailed', (r) => {
		const why = r.failure() ? r.failure().errorText : '';
		/* a long-poll cut short by navigation is not a failure */
		if (why !== 'net::ERR_ABORTED')
			page.problems.push('request failed: ' + r.url() + ' ' + why);
	});
	page.on('response', (r) => {
		if (r.status() >= 400 && !isExpected(page, r.status(), r.url()))
			page.problems.push('answer ' + r.status() + ': ' + r.url());
	});
}

/* The button whose name is exactly `name` in `within` (a page or a
 * locator), and the form of `root` that holds such a button. */
export const button = (within, name) =>
	within.getByRole('button', {name, exact: true});
export const formOf = (page, root, submit) =>
	root.locator('form', {has: button(page, submit)});

/* Answers a test provokes: expect(page, 401, '/v1/session'). */
export function expect(page, status, urlPart) {
	page.expected.push([status, urlPart]);
}

function isExpected(page, status, url) {
	return page.expected.some(([s, u]) => s === status && url.includes(u));
}

/* Chromium logs every 4xx answer to fetch() as a console error. */
function expectedConsole(page, text) {
	const m = /status of (\d{3})/.exec(text);
	return m !== null && page.expected.some(([s]) => s === Number(m[1]));
}

export function assertClean(page) {
	assert.deepEqual(page.problems, [], 'console errors or failed requests');
}

/* --- checks ------------------------------------------------------------ */

/*
 * axe at WCAG 2.1 AA: zero violations.  axe.run in the page itself,
 * its source put in once per document: @axe-core/playwright put it in
 * two or three times per scan (and by default opened a second page to
 * merge the frames' results), which cost more than a scan of most
 * screens.  axe.run reaches same-origin frames only, so a frame of
 * another origin fails the check.  Only the violations are worked out
 * in full (resultTypes): the passes are not looked at.
 */
const AXE_OPTIONS = {
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
	                                'wcag21aa']},
	resultTypes: ['violations'],
};

export async function axeCheck(page, name) {
	const origin = new URL(page.url()).origin;
	const foreign = page.frames().map((f) => f.url())
		.filter((u) => u !== '' && u !== 'about:blank' &&
		        new URL(u).origin !== origin);
	assert.deepEqual(foreign, [], `frames of another origin on ${name}`);
	if (await page.evaluate(() => window.axe?.version) !== axe.version)
		await page.evaluate(axe.source);
	const v = await page.evaluate(async (options) => {
		const r = await window.axe.run(document, options);
		return r.violations.map((x) => `${x.id} (${x.impact}): ${x.help} ` +
			x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
	}, AXE_OPTIONS);
	assert.deepEqual(v, [], `axe violations on ${name}`);
}

/*
 * Screenshots of the page as it is, at 1280 and 375 px wide (full page):
 * SHOTS/<name>-1280.png and -375.png.  The viewport is put back after.
 */
export async function shot(page, name) {
	mkdirSync(SHOTS, {recursive: true});
	const vp = page.viewportSize();
	for (const w of WIDTHS) {
		await page.setViewportSize({width: w, height: 900});
		await page.screenshot({path: join(SHOTS, `${name}-${w}.png`),
		                       fullPage: true});
	}
	await page.setViewportSize(vp);
}

/*
 * axe, no sideways scrolling of the page, and screenshots at both
 * widths: every screen's routine.  (A wide table scrolls inside its
 * own .nrm-table-wrap; the page itself never does.)  Each width is set
 * once for its three checks; the viewport is 1280 px wide after.
 */
export async function checkScreen(page, name) {
	mkdirSync(SHOTS, {recursive: true});
	for (const w of WIDTHS) {
		await page.setViewportSize({width: w, height: 900});
		await axeCheck(page, `${name} at ${w} px`);
		const [over, wide] = await page.evaluate(() => {
			const d = document.documentElement;
			const out = [];
			for (const e of document.querySelectorAll('body *')) {
				const b = e.getBoundingClientRect();
				if (b.width > 0 && b.right > d.clientWidth + 0.5)
					out.push(`${e.tagName.toLowerCase()}.${e.className}` +
					         ` (${Math.round(b.right)} px: ` +
					         `${(e.textContent || '').slice(0, 30)})`);
			}
			return [d.scrollWidth - d.clientWidth, out.slice(0, 5)];
		});
		assert.ok(over <= 0, `${name} at ${w} px: the page is ${over} px ` +
		          `wider than the window: ${wide.join('; ')}`);
		await page.screenshot({path: join(SHOTS, `${name}-${w}.png`),
		                       fullPage: true});
	}
	await page.setViewportSize({width: 1280, height: 900});
}

/*
 * Load `path` in a fresh page and sum the bytes transferred (the
 * encoded body plus headers of every answer): {bytes, answers}.
 */
export async function firstLoad(browser, path = '/') {
	const page = await newPage(browser);
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	let bytes = 0;
	let answers = 0;
	cdp.on('Network.loadingFinished', (e) => {
		bytes += e.encodedDataLength;
		answers++;
	});
	await page.goto(BASE + path, {waitUntil: 'networkidle'});
	await page.context().close();
	return {bytes, answers};
}

/* --- persons ----------------------------------------------------------- */

export function fixture() {
	return JSON.parse(readFileSync(FIXTURE, 'utf8'));
}

function saveFixture(f) {
	writeFileSync(FIXTURE + '.tmp', JSON.stringify(f, null, 1));
	renameSync(FIXTURE + '.tmp', FIXTURE);
}

/* Remember what a person learnt (secret, password, last TOTP step). */
function remember(who, fields) {
	const f = fixture();
	Object.assign(f.persons[who], fields);
	saveFixture(f);
	return f.persons[who];
}

/* RFC 6238: HOTP (RFC 4226) of `step`, SHA-1, 6 digits. */
export function totp(secretB32, step) {
	const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const c of secretB32.replace(/=+$/, '').toUpperCase())
		bits += alpha.indexOf(c).toString(2).padStart(5, '0');
	const key = Buffer.alloc(Math.floor(bits.length / 8));
	for (let i = 0; i < key.length; i++)
		key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(step));
	const mac = createHmac('sha1', key).update(msg).digest();
	const off = mac[mac.length - 1] & 0x0f;
	const code = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
	return String(code).padStart(6, '0');
}

/*
 * A code for a step this person has not used (the server refuses a
 * replayed one).  The server accepts a code one step ahead of its clock
 * (NRM_TOTP_DRIFT, as an authenticator running a little fast would send),
 * so the next unused step is sent at once when it is at most one ahead,
 * and otherwise only as long as needed for it to be one ahead.
 */
export async function nextCode(who) {
	const p = fixture().persons[who];
	let step = Math.floor(Date.now() / 30000);
	if (p.last_step !== undefined && step <= p.last_step) {
		step = p.last_step + 1;
		const wait = (step - 1) * 30000 - Date.now() + 200;
		if (wait > 0)
			await new Promise((r) => setTimeout(r, wait));
	}
	remember(who, {last_step: step});
	return totp(p.secret, step);
}

function secretOf(uri) {
	return new URL(uri).searchParams.get('secret');
}

function newPassword() {
	return 'Vlinder-' + Math.random().toString(36).slice(2, 10) +
		'-' + Date.now().toString(36);
}

/* Enrol `who` through the enrolment screen; returns the answer's URI. */
export async function enrolViaUi(page, who) {
	const t = await catalogue('nl');
	const p = fixture().persons[who];
	const password = newPassword();
	await page.goto(BASE + '/#/enrol');
	await page.getByLabel(t['enrol.code'], {exact: true})
		.fill(p.enrolment_code);
	await page.getByLabel(t['enrol.password'], {exact: true})
		.fill(password);
	await page.getByLabel(t['enrol.password2'], {exact: true})
		.fill(password);
	const answer = page.waitForResponse((r) =>
		r.url().endsWith('/v1/enrol') && r.request().method() === 'POST');
	await page.getByRole('button', {name: t['enrol.submit'], exact: true})
		.click();
	const r = await answer;
	assert.equal(r.status(), 201, `enrolment of ${who}`);
	const uri = await page.locator('#otpauth-uri').textContent();
	remember(who, {password, secret: secretOf(uri), enrolled: true});
	return uri;
}

/* The fallback: enrol through the API (no screen involved). */
export async function enrolViaApi(page, who) {
	const p = fixture().persons[who];
	const password = newPassword();
	const r = await page.request.post(BASE + '/v1/enrol', {
		data: {enrolment_code: p.enrolment_code, password}});
	assert.equal(r.status(), 201, `enrolment of ${who}: ${await r.text()}`);
	const b = await r.json();
	remember(who, {password, secret: secretOf(b.otpauth_uri),
	               enrolled: true});
	return b.otpauth_uri;
}

/* Log `who` in through the login screen; resolves on the screen after. */
export async function loginViaUi(page, who) {
	const t = await catalogue('nl');
	const code = await nextCode(who);
	const p = fixture().persons[who];
	await page.goto(BASE + '/#/login');
	await page.getByLabel(t['login.login'], {exact: true}).fill(p.login);
	await page.getByLabel(t['login.password'], {exact: true})
		.fill(p.password);
	await page.getByLabel(t['login.totp'], {exact: true}).fill(code);
	const answer = page.waitForResponse((r) =>
		r.url().endsWith('/v1/session') && r.request().method() === 'POST');
	await page.getByRole('button', {name: t['login.submit'], exact: true})
		.click();
	const r = await answer;
	assert.equal(r.status(), 201, `login of ${who}`);
	await page.locator('[data-screen]:not([data-screen="login"])')
		.first().waitFor();
}

/*
 * The fallback: log in through the API in the page's context (the
 * cookie lands in its jar) and hand the console the CSRF token as its
 * api.js keeps it (sessionStorage 'nrm.csrf').
 */
export async function loginViaApi(page, who) {
	const code = await nextCode(who);
	const p = fixture().persons[who];
	const r = await page.request.post(BASE + '/v1/session', {
		data: {login: p.login, password: p.password, totp: code}});
	assert.equal(r.status(), 201, `login of ${who}: ${await r.text()}`);
	const b = await r.json();
	await page.goto(BASE + '/');
	await page.evaluate((tok) => sessionStorage.setItem('nrm.csrf', tok),
		b.csrf_token);
	await page.reload();
	return b;
}

/*
 * Enrol `who` the first time (through the screen; NRM_BROWSER_VIA=api
 * uses the API instead), then log in; later calls only log in.
 */
export async function enrolAndLogin(page, who) {
	const api = process.env.NRM_BROWSER_VIA === 'api';
	const p = fixture().persons[who];
	assert.ok(p, `no person ${who} in the fixture`);
	if (!p.enrolled)
		await (api ? enrolViaApi : enrolViaUi)(page, who);
	await (api ? loginViaApi : loginViaUi)(page, who);
}

/*
 * A person's session for setting up and checking through the API (a
 * page of its own; enrolled through the API unless it already is):
 * {page, csrf, id}.  The session is kept in the fixture and used again
 * by later calls (of any test file) while nrmd still knows it: a new
 * login would need a TOTP step of its own (nextCode), and the setup of
 * one file after another waited up to 30 s for one (23 s seen).
 */
export async function apiSession(browser, who) {
	const page = await newPage(browser);
	const kept = fixture().persons[who].api_session;
	if (kept) {
		await page.context().addCookies([{name: kept.name,
			value: kept.value, url: BASE}]);
		const r = await page.request.get(BASE + '/v1/session');
		if (r.status() === 200)
			return {page, csrf: kept.csrf, id: (await r.json()).person.id};
		await page.context().clearCookies();
	}
	if (!fixture().persons[who].enrolled)
		await enrolViaApi(page, who);
	const b = await loginViaApi(page, who);
	const c = (await page.context().cookies(BASE))
		.find((x) => x.name.endsWith('nrm_session'));
	assert.ok(c, `no session cookie for ${who}`);
	remember(who, {api_session: {name: c.name, value: c.value,
	                             csrf: b.csrf_token}});
	return {page, csrf: b.csrf_token, id: b.person.id};
}

/* A call in such a session (CSRF token and Origin on unsafe methods). */
export async function apiCall(s, method, path, data, headers = {}) {
	const h = {...headers};
	if (method !== 'GET') {
		h['X-CSRF-Token'] = s.csrf;
		h.Origin = BASE;
	}
	const r = await s.page.request.fetch(BASE + path, {method, data,
		headers: h});
	return {status: r.status(), body: await r.json().catch(() => null)};
}

/* A catalogue template filled in: fill('{login} ...', {login: 'x'}). */
export const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => vars[k]);

/* Switch the console's language with the header's button (t: the
 * catalogue the console shows now). */
export async function switchTo(page, lang, t) {
	await page.getByRole('button', {name: t['lang.switch_to.' + lang]})
		.click();
	await page.waitForFunction((l) => document.documentElement.lang === l,
	                           lang);
}

/* Open a screen afresh (a new document: the same hash would not re-render). */
export async function go(page, hash) {
	await page.goto('about:blank');
	await page.goto(BASE + '/' + hash);
	await page.locator('#main > [data-screen] h1').first().waitFor();
}

/*
 * A fresh signal from the reporter, through the API: seen a minute ago
 * in Amsterdam (GM0363, region VR13), a subject of about 30, labour
 * exploitation, consent given; the members of `facts` take the place of
 * these.  Asserts the 201 and answers its body ({signal_id, case_id}).
 */
export async function reportSignal(browser, facts = {}) {
	const s = await apiSession(browser, 'reporter');
	const r = await apiCall(s, 'POST', '/v1/signals', {
		observed_at: new Date(Date.now() - 60000).toISOString()
			.replace(/\.\d+Z$/, 'Z'),
		location: {municipality_code: 'GM0363'},
		subject: {age_estimate: 30},
		exploitation: ['labour'], consent: 'given', ...facts},
		{'Idempotency-Key': randomUUID()});
	assert.equal(r.status, 201, JSON.stringify(r.body));
	await s.page.context().close();
	return r.body;
}

/*
 * The browser of a test file: withBrowser(setup), called once in the
 * file, launches chromium before the file's tests, then runs the file's
 * own setup (async, optional), and closes chromium after the tests;
 * `browser` is that chromium (a live binding: read it in setup and
 * tests).  node --test runs each file in a process of its own.
 */
export let browser = null;
export function withBrowser(setup) {
	before(async () => {
		browser = await launch();
		if (setup)
			await setup();
	});
	after(async () => {
		await browser?.close();
	});
}

/* The message catalogues, Dutch and English, for labels and texts. */
export const nl = await catalogue('nl');
export const en = await catalogue('en');
