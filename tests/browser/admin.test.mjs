/*
 * admin.test.mjs - the administrator, the analyst and the API reference
 * in a real browser (issue 12): the admin creates a person and sees the
 * one-time enrolment code (which then enrols that person), disables and
 * re-enables them, and explains a routing decision; makes an API key,
 * sees its token once (which works at once), revokes it after a
 * confirmation (and the token is refused); the analyst's screen
 * shows the indicators register, one indicator's chart and table over a
 * closed year, publishes that year and lists it with its report and CSV,
 * and shows the routing coverage; the
 * API reference renders nrmd's OpenAPI document as text (a hostile
 * string in it stays text).  axe at WCAG 2.1 AA and screenshots of each
 * screen in nl and en at 1280 and 375.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {readFileSync, writeFileSync} from 'node:fs';

import {
	BASE, FIXTURE, assertClean, browser, button, checkScreen, en,
	enrolAndLogin, expect, fill, fixture, formOf, newPage, nl, switchTo,
	withBrowser,
} from './lib.mjs';

withBrowser();

test('the admin creates a person and sees the enrolment code', async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'admin');
	await page.goto(BASE + '/#/admin');
	const root = page.locator('[data-screen="admin"]');
	await root.getByRole('table', {name: nl['admin.persons.caption']})
		.waitFor();
	await checkScreen(page, 'admin');

	const login = 'b-new-' + Date.now().toString(36);
	const form = formOf(page, root, nl['admin.f.submit']);
	await form.getByLabel(nl['admin.f.login'], {exact: true}).fill(login);
	await form.getByLabel(nl['admin.f.display_name'], {exact: true})
		.fill('Nina <b>Nieuw</b> \u202Eesrever');
	await form.getByLabel(nl['admin.f.role'], {exact: true})
		.selectOption('coordinator');
	await form.getByLabel(nl['admin.f.regions'], {exact: true})
		.fill('vr13');
	await button(form, nl['admin.f.submit']).click();
	const code = root.locator('#enrolment-code');
	await code.waitFor();
	const text = (await code.textContent()).trim();
	assert.match(text, /^[A-Z2-7]{32}$/);
	await root.getByText(fill(nl['admin.code.title'], {login})).waitFor();
	await checkScreen(page, 'admin-code');

	/* the person is listed, its name as typed, and the code works once */
	const row = root.locator('tr', {hasText: login});
	await row.getByText('Nina <b>Nieuw</b> \u202Eesrever').waitFor();
	const enrol = await page.request.post(BASE + '/v1/enrol', {data:
		{enrolment_code: text, password: 'Zeef-pompoen-Kwartel-42!'}});
	assert.equal(enrol.status(), 201, await enrol.text());

	/* disable and enable it again */
	await row.getByRole('button', {name: fill(nl['admin.act.disable_for'],
	                                          {login})}).click();
	await root.getByText(fill(nl['admin.done.disable'], {login})).waitFor();
	await row.getByRole('button', {name: fill(nl['admin.act.enable_for'],
	                                          {login})}).click();
	await root.getByText(fill(nl['admin.done.enable'], {login})).waitFor();

	/* explain a routing decision: a minor in Rotterdam goes to VR17 */
	await root.getByLabel(nl['routing.f.municipality']).fill('GM0599');
	await root.getByLabel(nl['routing.f.age']).fill('15');
	await root.getByLabel(nl['routing.f.consent'])
		.selectOption('not_required_minor');
	await root.getByRole('button', {name: nl['routing.f.submit']}).click();
	const x = root.getByTestId('explanation');
	await x.getByText('VR17', {exact: true}).waitFor();

	/*
	 * An analyst of this file's own, made in this session and added to
	 * the fixture (the harness's analyst is edge.test.mjs's to enrol).
	 */
	const csrf = await page.evaluate(() => sessionStorage.getItem('nrm.csrf'));
	const me = await (await page.request.get(BASE + '/v1/session')).json();
	const made = await page.request.post(BASE + '/v1/admin/persons', {
		headers: {'X-CSRF-Token': csrf, Origin: BASE},
		data: {login: 'b-analyst-ui2', display_name: 'Anna Analist',
		       agency_id: me.person.agency_id, role: 'analyst'}});
	assert.equal(made.status(), 201, await made.text());
	const f = JSON.parse(readFileSync(FIXTURE, 'utf8'));
	f.persons.analyst_ui2 = {login: 'b-analyst-ui2', role: 'analyst',
		regions: [], display_name: 'Anna Analist',
		enrolment_code: (await made.json()).enrolment_code};
	writeFileSync(FIXTURE, JSON.stringify(f, null, 1));

	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="admin"]').getByRole('table',
		{name: en['admin.persons.caption']}).waitFor();
	await checkScreen(page, 'admin-en');
	assertClean(page);
	await page.context().close();
});

test('the admin makes an API key, sees the token once, revokes it',
     async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'admin');
	await page.goto(BASE + '/#/admin');
	const root = page.locator('[data-screen="admin"]');
	await root.getByRole('table', {name: nl['admin.keys.caption']})
		.waitFor();

	const label = 'Koppeling <i>' + Date.now().toString(36) + '</i>';
	const form = formOf(page, root, nl['admin.keys.f.submit']);
	/* a field at fault is named */
	expect(page, 422, '/v1/admin/keys');
	await button(form, nl['admin.keys.f.submit']).click();
	await form.locator('#k-label-err').waitFor();
	await form.getByLabel(nl['admin.keys.f.label'], {exact: true})
		.fill(label);
	await form.getByLabel(nl['admin.f.role'], {exact: true})
		.selectOption('auditor');
	await button(form, nl['admin.keys.f.submit']).click();
	const tok = root.locator('#key-token');
	await tok.waitFor();
	const token = (await tok.textContent()).trim();
	assert.match(token, /^nrm_[A-Za-z0-9_-]{43}$/);
	await root.getByText(fill(nl['admin.token.title'], {label})).waitFor();
	await root.getByText(nl['admin.token.text']).waitFor();
	await checkScreen(page, 'admin-key-token');

	/* the token works at once, from a client without the session */
	const other = await browser.newContext({ignoreHTTPSErrors: true});
	const bearer = {Authorization: 'Bearer ' + token};
	let r = await other.request.get(BASE + '/v1/audit?limit=1',
	                                {headers: bearer});
	assert.equal(r.status(), 200, await r.text());

	/* shown once: after a reload the list has the key, not the token */
	await page.reload();
	const row = root.locator('tr', {hasText: label});
	await row.waitFor();
	assert.equal(await root.locator('#key-token').count(), 0);
	assert.ok(!(await page.content()).includes(token), 'token shown again');

	/* revoke: a confirmation first; cancel keeps the key */
	const revokeBtn = row.getByRole('button', {name:
		fill(nl['admin.keys.revoke_for'], {label})});
	await revokeBtn.click();
	await root.getByText(fill(nl['admin.keys.confirm.title'], {label}))
		.waitFor();
	await checkScreen(page, 'admin-key-confirm');
	await root.getByRole('button', {name: nl['admin.keys.confirm.no']})
		.click();
	r = await other.request.get(BASE + '/v1/audit?limit=1',
	                            {headers: bearer});
	assert.equal(r.status(), 200, 'cancel revoked the key');
	await revokeBtn.click();
	await root.getByRole('button', {name: nl['admin.keys.confirm.yes']})
		.click();
	await root.getByText(fill(nl['admin.keys.revoked'], {label})).waitFor();
	await row.getByText(nl['admin.keys.revoked_at'].split(' ')[0],
	                    {exact: false}).waitFor();
	r = await other.request.get(BASE + '/v1/audit?limit=1',
	                            {headers: bearer});
	assert.equal(r.status(), 401, 'a revoked token still works');
	await other.close();

	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="admin"]').getByRole('table',
		{name: en['admin.keys.caption']}).waitFor();
	await checkScreen(page, 'admin-keys-en');
	assertClean(page);
	await page.context().close();
});

test('the analyst sees the indicators, publishes, and the routing', async () => {
	assert.ok(fixture().persons.analyst_ui2, 'the admin test made one');
	const page = await newPage(browser);
	await enrolAndLogin(page, 'analyst_ui2');
	await page.goto(BASE + '/#/stats');
	const root = page.locator('[data-screen="stats"]');
	/* the register as a list, one indicator over a closed period */
	await root.getByLabel(nl['stats.indicator'], {exact: true}).waitFor();
	assert.ok(await root.locator('.nrm-register li').count() >= 15);
	await root.getByLabel(nl['stats.indicator'], {exact: true})
		.selectOption('identification_decoupled');
	const year = String(new Date().getFullYear() - 1);
	await root.getByLabel(nl['stats.period'], {exact: true})
		.selectOption(year);
	await root.getByRole('button', {name: nl['stats.show']}).click();
	const title = 'Positieve identificaties zonder opsporingsonderzoek '
		+ 'of aangifte';
	await root.getByRole('table', {name: `${title}, ${year}`}).waitFor();
	await root.getByRole('img', {name: fill(nl['stats.chart_alt'],
	                                        {title})}).waitFor();
	await root.getByText(nl['stats.how'], {exact: true}).waitFor();
	/* the running year is offered, marked provisional */
	assert.equal(await root.getByLabel(nl['stats.period'], {exact: true})
		.locator('option').first().textContent(),
	fill(nl['stats.period_provisional'],
	     {period: String(new Date().getFullYear())}));
	/* publish a closed year: a revision, listed with report and CSV */
	await root.getByLabel(nl['stats.publish_period']).selectOption(year);
	await root.getByRole('button', {name: nl['stats.publish']}).click();
	await root.locator('.nrm-alert').filter({hasText: year}).first()
		.waitFor();
	await root.getByRole('link', {name: new RegExp(
		`^Rapport ${year} rev\\. \\d+$`)}).first().waitFor();
	await root.getByRole('link', {name: new RegExp(
		`^CSV ${year} rev\\. \\d+$`)}).first().waitFor();
	await root.getByRole('table', {name: nl['routing.coverage']}).waitFor();
	await checkScreen(page, 'stats');
	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="stats"]')
		.getByRole('table', {name: en['routing.coverage']}).waitFor();
	await page.locator('[data-screen="stats"]')
		.getByLabel(en['stats.indicator'], {exact: true}).waitFor();
	await checkScreen(page, 'stats-en');
	assertClean(page);
	await page.context().close();
});

test('the API reference renders the OpenAPI document as text', async () => {
	const page = await newPage(browser);
	await page.goto(BASE + '/#/api');
	const root = page.locator('[data-screen="api"]');
	await root.getByRole('heading', {level: 1, name: nl['apiref.title']})
		.waitFor();
	const op = root.locator('#op-identificationQueue');
	await op.locator('summary').click();
	await op.getByText('/v1/identifications', {exact: true}).waitFor();
	await op.getByRole('table', {name: nl['apiref.params']})
		.getByText('awaiting', {exact: true}).waitFor();
	/* every operation of the document is on the page */
	const doc = await (await page.request.get(BASE + '/v1/openapi.json'))
		.json();
	const n = Object.values(doc.paths).reduce((a, item) => a + ['get',
		'post', 'put', 'patch', 'delete'].filter((m) => item[m]).length, 0);
	assert.equal(await root.locator('details.nrm-op[id^="op-"]').count(), n);
	/* no element came from the document's text: no script, no img */
	assert.equal(await root.locator('script, img, iframe').count(), 0);
	await checkScreen(page, 'api');
	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="api"]').getByRole('heading',
		{level: 1, name: en['apiref.title']}).waitFor();
	await checkScreen(page, 'api-en');
	assertClean(page);
	await page.context().close();
	assert.ok(fixture().persons.admin.enrolled);
});
