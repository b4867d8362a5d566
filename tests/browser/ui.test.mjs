/*
 * ui.test.mjs - browser tests of the reporter's and the coordinator's
 * screens (issue 12) against the real nrmd and PostgreSQL started by
 * run.sh: a signal and its receipt; the coordinator's inbox receiving it
 * live and taking it; a second coordinator's take showing the conflict;
 * a first contact recorded, a transfer the other region accepts
 * arriving in its inbox; an anonymous
 * notification; a validation answer at its field; session expiry keeping
 * what was typed; keyboard-only runs; hostile text shown as typed; axe
 * (WCAG 2.1 AA) and screenshots of every screen in nl and en at 1280 and
 * 375 px.  Tests run in order and share one browser.
 */
import {test, before, after, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {launch, newPage, enrolAndLogin, enrolViaUi, loginViaUi, checkScreen,
        assertClean, expect, nextCode, fixture, nl, en,
        go, BASE as URL} from './lib.mjs';

/* Fixture names of the people (tests/browser/run.sh makes them). */
const WHO = {
	reporter: 'reporter',
	co13: 'coordinator_vr13',
	co13b: 'coordinator_vr13b',
	co09: 'coordinator_vr09'
};

const HOSTILE = {
	script: '<script>alert(1)</script>',
	img: '"><img src=x onerror=alert(1)>',
	bidi: 'abc\u202Edef'
};

let browser;
const pages = [];
const seen = {};	/* receipts of the flows */
const shots = {};	/* screens shot once */

const dialogs = [];	/* any alert() would be an injection that ran */

function watch(page) {
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss();
	});
	pages.push(page);
	return page;
}

async function open(who, width) {
	const page = watch(await newPage(browser, {width}));
	page.who = who;
	if (!fixture().persons[WHO[who]].enrolled && !shots.enrolled) {
		/* once: the enrolment's answer (QR code, URI, recovery codes) */
		shots.enrolled = true;
		await enrolViaUi(page, WHO[who]);
		assert.ok(await page.locator('svg.nrm-qr rect').count() > 20);
		await checkScreen(page, 'enrol-done-nl');
		await loginViaUi(page, WHO[who]);
	} else {
		await enrolAndLogin(page, WHO[who]);
	}
	return page;
}

before(async () => {
	browser = await launch();
});

after(async () => {
	await browser.close();
});

afterEach(() => {
	for (const p of pages)
		assertClean(p);
});

/* Press Tab until `loc` has the focus (keyboard-only runs). */
async function tabTo(page, loc, max = 200) {
	for (let i = 0; i < max; i++) {
		if (await loc.evaluate((e) => document.activeElement === e))
			return;
		await page.keyboard.press('Tab');
	}
	throw new Error('Tab never reached ' + loc);
}

/* Fill the signal form with the mouse (values by field id). */
async function fillSignal(page, s) {
	const f = (id) => page.locator('#' + id);
	if (s.municipality)
		await f('f-location-municipality_code').fill(s.municipality);
	if (s.reference)
		await f('f-reporter_reference').fill(s.reference);
	if (s.age !== undefined)
		await f('f-subject-age_estimate').fill(String(s.age));
	for (const [id, v] of Object.entries(s.fields || {}))
		await f(id).fill(v);
	await f('f-consent-' + s.consent).check();
	for (const e of s.exploitation)
		await f('f-exploitation-' + e).check();
	if (s.shelter)
		await f('f-urgency-needs_shelter').check();
}

async function receiptOf(page) {
	const dl = page.locator('[data-screen="signal"] [data-receipt]');
	await dl.waitFor();
	const kind = await dl.locator('[data-kind]').getAttribute('data-kind');
	const region = await dl.locator('[data-region]').getAttribute('data-region');
	const signal = await dl.getAttribute('data-receipt');
	return {kind, region, signal, text: await dl.textContent()};
}

async function caseIdOf(page) {
	const t = await page.locator('[data-screen="signal"] [data-receipt]').textContent();
	return /(?:Zaaknummer|Case number)([0-9a-f-]{36})/.exec(t)[1];
}

test('reporter sends a signal, the coordinator sees it arrive live and takes it; a second coordinator gets the conflict', async () => {
	const co = await open('co13');
	await co.locator('[data-screen="inbox"] #inbox-live').waitFor();
	const co2 = await open('co13b');
	await co2.locator('[data-screen="inbox"] #inbox-live').waitFor();
	const rep = await open('reporter');
	await rep.locator('[data-screen="signal"]').waitFor();
	await fillSignal(rep, {municipality: 'GM0363', reference: 'PA-1',
		age: 30, consent: 'given', exploitation: ['labour'], shelter: true,
		fields: {'f-subject-given_name': 'Jana'}});
	await rep.getByRole('button', {name: nl['signal.submit']}).click();
	const r = await receiptOf(rep);
	assert.equal(r.kind, 'case');
	assert.equal(r.region, 'VR13');
	assert.match(r.text, /needs-shelter|default/);	/* the deciding rule */
	const id = await caseIdOf(rep);
	seen.case13 = id;
	await checkScreen(rep, 'receipt-nl');
	/* both coordinators see it without reloading */
	const row = co.locator(`tr[data-case="${id}"]`);
	await row.waitFor({timeout: 30000});
	const row2 = co2.locator(`tr[data-case="${id}"]`);
	await row2.waitFor({timeout: 30000});
	await row.getByRole('button', {name: /nemen|take/i}).click();
	await co.locator('#inbox-alert .utrecht-alert--ok').waitFor();
	/* the second one's row is stale: its take is refused and says why */
	expect(co2, 412, '/take');
	expect(co2, 409, '/take');
	await row2.getByRole('button', {name: /nemen|take/i}).click();
	const conflict = co2.locator('#inbox-alert [data-conflict]');
	await conflict.waitFor();
	assert.match(await conflict.textContent(), /In behandeling|Taken|versie|version/);
	await checkScreen(co2, 'inbox-conflict-nl');
	/* the reporter's receipts screen lists it */
	await rep.getByRole('navigation').getByRole('link', {name: nl['nav.receipts']}).click();
	await rep.locator(`[data-screen="receipts"] [data-receipt="${r.signal}"]`).waitFor();
	seen.signal13 = r.signal;
});

test('a first contact, then a transfer the receiving region accepts (issue 18)', async () => {
	const co = pages[0];
	const co09 = await open('co09');
	await co09.locator('[data-screen="inbox"] #inbox-live').waitFor();
	await go(co, '#/case/' + seen.case13);
	await co.getByRole('button', {name: nl['case.open']}).click();
	await co.locator('#case-state[data-state="taken"]').waitFor();
	/* the holder records the first contact: shown, in time */
	const contact = co.locator('form[data-action="contact"]');
	await contact.getByLabel(nl['case.contact.mode']).selectOption('phone');
	await contact.getByRole('button', {name: nl['case.contact']}).click();
	await co.locator('#case-first-contact', {hasText: nl['case.contact.in_time']})
		.waitFor();
	await checkScreen(co, 'case-first-contact-nl');
	/* the transfer waits for VR09; the sender keeps the case */
	const form = co.locator('form[data-action="transfer"]');
	await form.locator('#f-target_region').selectOption('VR09');
	await form.locator('#f-transfer-reason').selectOption('victim_relocated');
	await form.getByRole('button', {name: nl['case.transfer']}).click();
	await co.locator('#case-state[data-state="transfer_pending"]').waitFor();
	await co.locator('#case-transfer-waiting').waitFor();
	/* a coordinator of VR09 reads it and accepts it */
	await go(co09, '#/case/' + seen.case13);
	await co09.getByRole('button', {name: nl['case.open']}).click();
	await co09.locator('form[data-action="accept"]').waitFor();
	await checkScreen(co09, 'case-transfer-accept-nl');
	await co09.locator('form[data-action="accept"]')
		.getByRole('button', {name: nl['case.accept']}).click();
	await co09.locator('#case-state[data-state="open"]').waitFor();
	assert.match(await co09.locator('#case-region').textContent(), /Utrecht|VR09/);
	const ref = (await co09.locator('#case-reference').textContent()).trim();
	assert.match(ref, /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]$/);
	await go(co09, '#/inbox');
	await co09.locator(`tr[data-case="${seen.case13}"]`).waitFor({timeout: 30000});
	/* found by its reference as heard over the phone */
	await co09.getByLabel(nl['inbox.find.reference']).fill(
		ref.toLowerCase().replace(/-/g, ' '));
	await co09.locator('#inbox-find').getByRole('button', {name: nl['inbox.find']})
		.click();
	await co09.locator('[data-screen="case"]').waitFor();
	await checkScreen(co09, 'case-found-by-reference-nl');
	seen.case09 = seen.case13;
});

test('an adult who refuses consent: identifying fields hidden and cleared; a notification', async () => {
	const rep = pages[2];
	await go(rep, '#/signal');
	await rep.locator('#f-subject-given_name').fill('Piet');
	await rep.locator('#f-narrative').fill('iets');
	await rep.locator('#f-subject-age_estimate').fill('40');
	await rep.locator('#f-consent-refused').check();
	assert.equal(await rep.locator('#f-subject-given_name').isVisible(), false);
	assert.equal(await rep.locator('#f-narrative').isVisible(), false);
	assert.equal(await rep.locator('#f-subject-given_name').inputValue(), '');
	assert.equal(await rep.locator('#f-narrative').inputValue(), '');
	assert.ok(await rep.locator('#anon-note').isVisible());
	/* a minor never needs consent: "not required" appears for a minor only */
	assert.equal(await rep.locator('#f-consent-not_required_minor').isVisible(), false);
	await rep.locator('#f-subject-age_estimate').fill('15');
	assert.ok(await rep.locator('#f-consent-not_required_minor').isVisible());
	assert.ok(await rep.locator('#f-subject-given_name').isVisible());
	await rep.locator('#f-subject-age_estimate').fill('40');
	await rep.locator('#f-exploitation-labour').check();
	await rep.locator('#f-location-municipality_code').fill('GM0518');
	await rep.getByRole('button', {name: nl['signal.submit']}).click();
	const r = await receiptOf(rep);
	assert.equal(r.kind, 'notification');
});

test('a validation answer is shown at its field, in the person\'s language', async () => {
	const rep = pages[2];
	await go(rep, '#/signal');
	expect(rep, 422, '/v1/signals');
	await fillSignal(rep, {municipality: 'GM9999', consent: 'given', age: 30,
	                       exploitation: ['sexual']});
	await rep.getByRole('button', {name: nl['signal.submit']}).click();
	const input = rep.locator('#f-location-municipality_code');
	await rep.locator('#f-location-municipality_code-err').waitFor();
	assert.equal(await input.getAttribute('aria-invalid'), 'true');
	assert.equal(await rep.locator('#f-location-municipality_code-err').textContent(),
	             nl['err.location.municipality_code']);
});

test('session expiry keeps what was typed and asks to log in again', async () => {
	const rep = pages[2];
	await go(rep, '#/signal');
	await rep.locator('#f-reporter_reference').fill('kept-after-login');
	await rep.locator('#f-exploitation-begging').check();
	expect(rep, 401, '/v1/signals');
	/* end the session behind the screen's back */
	await rep.evaluate(() => fetch('/v1/session', {method: 'DELETE',
		headers: {'X-CSRF-Token': sessionStorage.getItem('nrm.csrf')}}));
	await rep.getByRole('button', {name: nl['signal.submit']}).click();
	const dlg = rep.getByRole('dialog');
	await dlg.waitFor();
	await checkScreen(rep, 'session-expired-nl');
	const code = await nextCode(WHO.reporter);
	await dlg.locator('input[type="password"]')
		.fill(fixture().persons[WHO.reporter].password);
	await dlg.locator('#x-f-totp').fill(code);
	await dlg.getByRole('button', {name: nl['login.submit']}).click();
	await dlg.waitFor({state: 'detached'});
	assert.equal(await rep.locator('#f-reporter_reference').inputValue(), 'kept-after-login');
	assert.ok(await rep.locator('#f-exploitation-begging').isChecked());
});

test('hostile text is shown exactly as typed, and nothing runs', async () => {
	const rep = pages[2];
	await go(rep, '#/signal');
	await fillSignal(rep, {municipality: 'GM0363', consent: 'given', age: 30,
		exploitation: ['criminal'], reference: 'ref' + HOSTILE.img.slice(0, 20),
		fields: {'f-subject-given_name': HOSTILE.script,
		         'f-subject-family_name': HOSTILE.img,
		         'f-narrative': HOSTILE.bidi + ' ' + HOSTILE.script}});
	await rep.getByRole('button', {name: nl['signal.submit']}).click();
	await receiptOf(rep);
	const id = await caseIdOf(rep);
	const co = pages[0];
	await go(co, '#/case/' + id);
	await co.getByRole('button', {name: nl['case.open']}).click();
	await co.locator('#subject-given_name').waitFor();
	assert.equal(await co.locator('#subject-given_name').textContent(), HOSTILE.script);
	assert.equal(await co.locator('#subject-family_name').textContent(), HOSTILE.img);
	assert.equal(await co.locator('#subject-narrative bdi').textContent(),
	             HOSTILE.bidi + ' ' + HOSTILE.script);
	/* the override stays inside its own text, and the reader is told */
	assert.ok(await co.locator('#subject-narrative .nrm-bidi').isVisible());
	assert.equal(await co.locator('#subject-given_name .nrm-bidi').count(), 0);
	assert.equal(await co.locator('main img, main script').count(), 0);
	seen.hostile = id;
	await co.waitForTimeout(300);	/* an onerror would have fired by now */
	assert.deepEqual(dialogs, []);
});

test('break-glass: a case outside the regions, read with a reason, clearly marked, no actions', async () => {
	const co09 = pages.find((p) => p.who === 'co09');
	expect(co09, 404, '/v1/cases/');
	await go(co09, '#/case/' + seen.hostile);
	await co09.getByRole('button', {name: nl['case.open']}).click();
	await co09.locator('#purpose-form .nrm-form-alert:not([hidden])').waitFor();
	const glass = co09.locator('#breakglass-form');
	await glass.locator('#f-bg-reason').selectOption('person_relocated');
	await glass.getByLabel(nl['case.bg.confirm']).check();
	await glass.getByRole('button', {name: nl['case.bg.open']}).click();
	await co09.locator('#bg-banner').waitFor();
	assert.match(await co09.locator('#bg-banner').textContent(), /NOODINZAGE/);
	assert.equal(await co09.locator('#subject-given_name').textContent(), HOSTILE.script);
	assert.equal(await co09.locator('form[data-action]').count(), 0);
	await checkScreen(co09, 'case-breakglass-nl');
});

test('keyboard only: the reporter sends a signal, the coordinator takes it', async () => {
	const rep = pages[2];
	await go(rep, '#/signal');
	await rep.locator('[data-screen="signal"] h1').waitFor();
	await tabTo(rep, rep.locator('#f-location-municipality_code'));
	await rep.keyboard.type('GM0363');
	await tabTo(rep, rep.locator('#f-subject-age_estimate'));
	await rep.keyboard.type('16');
	await tabTo(rep, rep.locator('input[name="consent"]').first());
	/* arrow keys move through the radio group: to "not required (minor)" */
	for (let i = 0; i < 4; i++) {
		if (await rep.locator('#f-consent-not_required_minor').isChecked())
			break;
		await rep.keyboard.press('ArrowDown');
	}
	assert.ok(await rep.locator('#f-consent-not_required_minor').isChecked());
	await tabTo(rep, rep.locator('#f-exploitation-sexual'));
	await rep.keyboard.press('Space');
	await tabTo(rep, rep.getByRole('button', {name: nl['signal.submit']}));
	await rep.keyboard.press('Enter');
	const r = await receiptOf(rep);
	assert.equal(r.kind, 'case');
	const id = await caseIdOf(rep);
	const co = pages[0];
	await go(co, '#/inbox');
	const take = co.locator(`tr[data-case="${id}"]`).getByRole('button', {name: /nemen|take/i});
	await take.waitFor({timeout: 30000});
	await tabTo(co, take);
	await co.keyboard.press('Enter');
	await co.locator('#inbox-alert .utrecht-alert--ok').waitFor();
	/* on to the case with the keyboard */
	const link = co.locator(`tr[data-case="${id}"] a`);
	await tabTo(co, co.locator('#f-state'));
	await co.keyboard.press('ArrowDown');	/* open -> taken */
	assert.equal(await co.locator('#f-state').inputValue(), 'taken');
	await link.waitFor();
	await tabTo(co, link);
	await co.keyboard.press('Enter');
	await co.locator('[data-screen="case"] #f-purpose').waitFor();
	await tabTo(co, co.getByRole('button', {name: nl['case.open']}));
	await co.keyboard.press('Enter');
	await co.locator('#case-state[data-state="taken"]').waitFor();
	seen.kb = id;
});

test('the receipts screen lists the agency\'s earlier receipts from the server, after a reload too', async () => {
	const rep = pages[2];
	await go(rep, '#/receipts');
	/* made in the first test; this browser keeps no list of its own */
	assert.equal(await rep.evaluate(() => sessionStorage.getItem('nrm.receipts')), null);
	await rep.reload();
	const earlier = rep.locator(`[data-screen="receipts"] [data-receipt="${seen.signal13}"]`);
	await earlier.waitFor();
	assert.equal(await earlier.locator('[data-kind]').getAttribute('data-kind'), 'case');
	assert.equal(await earlier.locator('[data-region]').getAttribute('data-region'), 'VR13');
	/* newest first: the latest signal (the keyboard run's) above it */
	const ids = await rep.locator('[data-screen="receipts"] [data-receipt]')
		.evaluateAll((els) => els.map((e) => e.dataset.receipt));
	assert.ok(ids.indexOf(seen.signal13) > 0, ids.join(' '));
});

test('close and reopen a held case (If-Match): the state follows, the history grows', async () => {
	const co = pages[0];
	const close = co.locator('form[data-action="close"]');
	await close.locator('#f-close-reason').selectOption('victim_supported');
	await close.getByRole('button', {name: nl['case.close']}).click();
	await co.locator('#case-state[data-state="closed"]').waitFor();
	assert.equal(await co.locator('#case-version').textContent(), '3');
	const reopen = co.locator('form[data-action="reopen"]');
	await reopen.locator('#f-reopen-reason').selectOption('new_information');
	await reopen.getByRole('button', {name: nl['case.reopen']}).click();
	await co.locator('#case-state[data-state="open"]').waitFor();
	assert.equal(await co.locator('#case-history tbody tr').count(), 4);
});

test('hand a held case over to a colleague picked from the list: it shows in that person\'s "mine" inbox', async () => {
	const co = pages[0];
	const co2 = pages[1];
	/* reopened, so open: no handover or close offered, take is */
	await co.locator('#case-state[data-state="open"]').waitFor();
	assert.equal(await co.locator('form[data-action="handover"]').count(), 0);
	assert.equal(await co.locator('form[data-action="close"]').count(), 0);
	await co.locator('form[data-action="take"]')
		.getByRole('button', {name: nl['case.take']}).click();
	await co.locator('#case-state[data-state="taken"]').waitFor();
	const form = co.locator('form[data-action="handover"]');
	const pick = form.getByLabel(nl['case.handover.person'], {exact: true});
	const names = await pick.locator('option').allTextContents();
	const to = fixture().persons[WHO.co13b].display_name;
	assert.ok(names.includes(to), names.join('|'));
	assert.ok(!names.includes(fixture().persons[WHO.co13].display_name));
	assert.ok(!names.includes(fixture().persons[WHO.co09].display_name));
	await pick.selectOption({label: to});
	await form.getByRole('button', {name: nl['case.handover']}).click();
	/* held by the colleague now: no action is offered any more */
	await co.locator('#case-held-other').waitFor();
	assert.equal(await co.locator('#case-state').getAttribute('data-state'), 'taken');
	assert.equal(await co.locator('form[data-action]').count(), 0);
	await co.locator('.utrecht-alert--ok').waitFor();
	await checkScreen(co, 'case-held-other-nl');
	await go(co2, '#/inbox');
	await co2.locator('#f-state').selectOption('taken');
	await co2.locator('#f-mine').check();
	await co2.getByRole('button', {name: nl['common.refresh']}).click();
	await co2.locator(`tr[data-case="${seen.kb}"]`).waitFor({timeout: 30000});
});

test('share a case with an investigating agency picked from the list, with consent: it is shared', async () => {
	const co = pages[0];
	const form = co.locator('#share-form');
	const pick = form.getByLabel(nl['share.agency'], {exact: true});
	const names = await pick.locator('option').allTextContents();
	const to = 'Recherche Browser (' + nl['routing.kind.kmar'] + ')';
	assert.ok(names.includes(to), names.join('|'));
	/* an agency without investigators is not offered */
	assert.ok(!names.some((n) => n.startsWith('Politie Browser')), names.join('|'));
	await pick.selectOption({label: to});
	await form.getByLabel(nl['share.consent']).check();
	await form.getByRole('button', {name: nl['share.submit']}).click();
	await form.locator('.utrecht-alert--ok', {hasText: nl['share.done']}).waitFor();
	await checkScreen(co, 'case-shared-nl');
	/* shared once: a second share says so */
	await form.getByRole('button', {name: nl['share.submit']}).click();
	await form.locator('.utrecht-alert--ok', {hasText: nl['share.again']}).waitFor();
});

/* Every screen of this helper, in nl and en, at 1280 and 375 px. */
test('axe finds no WCAG 2.1 AA violation on any screen; screenshots', async () => {
	const anon = watch(await newPage(browser));
	const rep = pages[2];
	const co = pages[0];
	const screens = [
		[anon, 'login', '#/login', '[data-screen="login"] form'],
		[anon, 'enrol', '#/enrol', '[data-screen="enrol"] form'],
		[rep, 'signal', '#/signal', '[data-screen="signal"] form'],
		[rep, 'receipts', '#/receipts', '[data-screen="receipts"] [data-receipt]'],
		[co, 'inbox', '#/inbox', '[data-screen="inbox"] #inbox-live'],
		[co, 'case', '#/case/' + seen.hostile, '[data-screen="case"] form']
	];
	for (const lang of ['nl', 'en']) {
		for (const [page, name, hash, ready] of screens) {
			await page.goto(URL + '/' + hash);
			await page.evaluate((l) => localStorage.setItem('nrm.lang', l), lang);
			await page.reload();
			await page.locator(ready).first().waitFor();
			if (name === 'case') {
				await page.getByRole('button', {name: (lang === 'nl' ? nl : en)['case.open']}).click();
				await page.locator('#case-state').waitFor();
			}
			assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
			await checkScreen(page, `${name}-${lang}`);
		}
	}
	for (const p of [anon, rep, co])
		await p.evaluate(() => localStorage.setItem('nrm.lang', 'nl'));
});
