/*
 * identification.test.mjs - the assessor and the auditor in a real
 * browser (issue 12): the assessor finds a new case in the queue of
 * GET /v1/identifications with its clocks, reads its identification
 * history, sees a profile rule refuse a conclusive decision and records
 * an initial one; the auditor finds the assessor's read of that case in
 * the audit search and judges an emergency (break-glass) read of it,
 * made through the API by a coordinator of another region.  axe at WCAG
 * 2.1 AA and screenshots of both screens in nl and en at 1280 and 375.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
	BASE, apiCall, apiSession, assertClean, browser, button, checkScreen,
	en, enrolAndLogin, expect, fill, formOf, newPage, nl, reportSignal,
	switchTo, withBrowser,
} from './lib.mjs';

let caseId;

withBrowser(async () => {
	/* a fresh case in VR13 (Amsterdam) from the reporter */
	caseId = (await reportSignal(browser)).case_id;
	assert.ok(caseId, 'the signal became a case');
});

test('the assessor records a decision from the queue', async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'assessor');
	await page.goto(BASE + '/#/queue');
	const root = page.locator('[data-screen="queue"]');
	await root.getByRole('heading', {level: 1, name: nl['queue.title']})
		.waitFor();
	/* the queue is oldest first: page on until the new case shows */
	const decideName = {name:
		fill(nl['queue.decide_for'], {id: caseId.slice(0, 8)})};
	const decide = root.getByRole('button', decideName);
	for (let i = 0; i < 20 && !(await decide.isVisible()); i++) {
		const more = root.getByRole('button', {name: nl['queue.more']});
		if (await more.isVisible())
			await more.click();
		await page.waitForTimeout(300);
	}
	await decide.waitFor();
	/* its row shows the clocks the server computed */
	const row = root.locator('tr', {has: page.getByRole('button',
	                                                   decideName)});
	await assert.doesNotReject(row.getByText(nl['queue.awaiting.initial'])
		.waitFor());
	await checkScreen(page, 'queue');

	await decide.click();
	const form = formOf(page, root, nl['queue.f.submit']);
	await root.getByRole('heading', {name: nl['queue.decide.form']})
		.waitFor();
	await root.getByText(nl['queue.history.empty']).waitFor();
	/* a conclusive decision before any initial one: the profile's rule */
	expect(page, 422, '/identification');
	await form.getByLabel(nl['queue.f.stage']).selectOption('conclusive');
	await button(form, nl['queue.f.submit']).click();
	await form.getByText(nl['queue.rule.conclusive_requires_initial'])
		.waitFor();
	await checkScreen(page, 'queue-decision');

	await form.getByLabel(nl['queue.f.stage']).selectOption('initial');
	await form.getByLabel(nl['queue.f.rationale'])
		.fill('<script>alert(1)</script> "><img src=x onerror=alert(2)>');
	await button(form, nl['queue.f.submit']).click();
	await root.getByText(fill(nl['queue.recorded'], {
		stage: nl['queue.stage.initial'], id: caseId.slice(0, 8)}))
		.first().waitFor();
	/* stored as typed, and the case now awaits the conclusive decision */
	const me = {page};
	const h = await apiCall(me, 'GET', '/v1/cases/' + caseId +
	                     '/identification');
	assert.equal(h.status, 200);
	assert.equal(h.body.items.length, 1);
	assert.equal(h.body.items[0].stage, 'initial');
	assert.equal(h.body.items[0].rationale,
	             '<script>alert(1)</script> "><img src=x onerror=alert(2)>');
	const q = await apiCall(me, 'GET',
	                     '/v1/identifications?awaiting=conclusive&limit=200');
	assert.ok(q.body.items.some((i) => i.case_id === caseId &&
		i.initial_decided_on && i.conclusive_earliest_on));

	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="queue"]').getByRole('heading',
		{level: 1, name: en['queue.title']}).waitFor();
	await checkScreen(page, 'queue-en');
	assertClean(page);
	await page.context().close();
});

test('the auditor finds the read and judges an emergency read', async () => {
	assert.ok(caseId, 'the assessor test made the case');
	/* a coordinator of VR09 breaks the glass on the VR13 case */
	const co = await apiSession(browser, 'coordinator_vr09');
	const bg = await apiCall(co, 'GET', '/v1/cases/' + caseId, undefined,
		{'NRM-Purpose': 'emergency', 'NRM-Reason': 'immediate_danger'});
	assert.equal(bg.status, 200, JSON.stringify(bg.body));
	assert.equal(bg.body.break_glass.review, 'pending');
	await co.page.context().close();

	const page = await newPage(browser);
	const me = {page};

	await enrolAndLogin(page, 'auditor');
	await page.goto(BASE + '/#/audit');
	const root = page.locator('[data-screen="audit"]');
	await root.getByText(nl['audit.chain.intact']).waitFor();

	/* the search: every event on the case, the assessor's read among them */
	const search = root.getByRole('search');
	await search.getByLabel(nl['audit.f.object_id']).fill(caseId);
	await search.getByRole('button', {name: nl['audit.f.submit']}).click();
	const results = root.locator('table', {has: page.getByText(
		nl['audit.results'], {exact: true})});
	const read = results.locator('tr', {hasText: 'identification.read'});
	await read.first().waitFor();
	await assert.doesNotReject(read.first().getByText(nl['role.assessor'])
		.waitFor());
	await assert.doesNotReject(results.locator('tr', {hasText:
		'identification.create'}).first().waitFor());

	/* the review queue: the emergency read, judged justified */
	const pending = await apiCall(me, 'GET',
	                           '/v1/audit/reviews?state=pending&limit=200');
	const ev = pending.body.items.find((e) => e.object_id === caseId);
	assert.ok(ev, 'the emergency read is flagged for review');
	const judge = root.getByRole('button', {name: fill(
		nl['audit.rv.judge_as'], {verdict: nl['audit.verdict.justified'],
		                          id: ev.id}), exact: true});
	for (let i = 0; i < 20 && !(await judge.isVisible()); i++) {
		const more = root.getByRole('button', {name: nl['audit.rv.more']});
		if (await more.isVisible())
			await more.click();
		await page.waitForTimeout(300);
	}
	await checkScreen(page, 'audit');
	await judge.click();
	const row = root.locator('tr[data-event="' + ev.id + '"]');
	await judge.waitFor({state: 'detached'});
	await row.locator('.nrm-badge', {hasText: nl['audit.verdict.justified']})
		.waitFor();
	assert.equal(await row.getByRole('button').count(), 0,
	             'a verdict is given once');
	const done = await apiCall(me, 'GET',
	                        '/v1/audit/reviews?state=reviewed&limit=200');
	const judged = done.body.items.find((e) => e.id === ev.id);
	assert.equal(judged && judged.verdict, 'justified');

	await switchTo(page, 'en', nl);
	await page.locator('[data-screen="audit"]').getByRole('heading',
		{level: 1, name: en['audit.title']}).waitFor();
	await page.locator('[data-screen="audit"]')
		.getByText(en['audit.chain.intact']).waitFor();
	await checkScreen(page, 'audit-en');
	assertClean(page);
	await page.context().close();
});
