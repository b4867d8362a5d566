/*
 * panels.test.mjs - the assessor's identification panels in a real
 * browser (issue 19): a case referred to a panel of three (the chair of
 * law, a member of care, one of medicine) through the API; the chair
 * finds it in the inbox of pending decisions, her turn; the panel votes
 * blind, so she sees a count only; she casts her vote with a written
 * rationale and then sees the votes; when the last member votes the
 * screen shows the decision, the voters and the dissent.  axe at WCAG
 * 2.1 AA and screenshots in nl and en at 1280 and 375 px.
 */
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';

import {
	BASE, apiCall, apiSession, assertClean, checkScreen, en, enrolAndLogin,
	fill, launch, newPage, nl, reportSignal,
} from './lib.mjs';

let browser;
let caseId;
const ids = {};
const sessions = {};

before(async () => {
	browser = await launch();
	caseId = (await reportSignal(browser, {subject: {age_estimate: 24},
	                                       exploitation: ['sexual']})).case_id;

	/* the care and medicine members log in through the API; the chair's
	 * id comes from her own login in the test */
	for (const who of ['panel_care', 'panel_med']) {
		sessions[who] = await apiSession(browser, who);
		ids[who] = sessions[who].id;
	}
	const care = sessions.panel_care;
	const init = await apiCall(care, 'POST', '/v1/cases/' + caseId +
		'/identification', {stage: 'initial', outcome: 'positive',
		deciding_body: 'assessment_body', rationale: null,
		decided_on: new Date(Date.now() - 86400000).toISOString()
			.slice(0, 10)});
	assert.equal(init.status, 201, JSON.stringify(init.body));
});
after(async () => {
	for (const s of Object.values(sessions))
		await s.page.context().close();
	await browser?.close();
});

test('the chair votes blind, then sees the decision and its dissent',
     async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'panel_chair');
	const who = await page.request.get(BASE + '/v1/session');
	ids.panel_chair = (await who.json()).person.id;

	/* the assessment body refers the case (any assessor may) */
	const care = sessions.panel_care;
	const ref = await apiCall(care, 'POST', '/v1/cases/' + caseId + '/panel', {
		members: [
			{person_id: ids.panel_chair, discipline: 'law'},
			{person_id: ids.panel_care, discipline: 'care'},
			{person_id: ids.panel_med, discipline: 'medicine'}],
		chair: ids.panel_chair});
	assert.equal(ref.status, 201, JSON.stringify(ref.body));
	/* the care member votes first, negative, with a rationale */
	const v1 = await apiCall(care, 'POST', '/v1/cases/' + caseId +
		'/panel/vote', {outcome: 'negative',
		reason: 'insufficient_information',
		rationale: 'Te weinig gegevens over de werkgever.'});
	assert.equal(v1.status, 201, JSON.stringify(v1.body));

	await page.goto(BASE + '/#/panels');
	const root = page.locator('[data-screen="panels"]');
	await root.getByRole('heading', {level: 1, name: nl['panels.title']})
		.waitFor();
	const openName = {name: fill(nl['panels.open_for'],
		{id: caseId.slice(0, 8)})};
	const open = root.getByRole('button', openName);
	await open.waitFor();
	const row = root.locator('tr', {has: page.getByRole('button',
	                                                   openName)});
	await row.getByText(nl['panels.you.to_act']).waitFor();
	await checkScreen(page, 'panels');

	await open.click();
	await root.getByRole('heading', {level: 2, name: fill(
		nl['panels.panel_for'], {id: caseId.slice(0, 8)})}).waitFor();
	/* blind: a count, not the care member's vote or rationale */
	await root.getByText(fill(nl['panels.votes.hidden'], {n: 1})).waitFor();
	assert.equal(await root.getByText('Te weinig gegevens').count(), 0);
	await checkScreen(page, 'panels-blind');

	const form = root.locator('form', {has: page.getByRole('button',
		{name: nl['panels.f.vote']})});
	await form.waitFor();
	await form.getByLabel(nl['panels.f.outcome']).selectOption('positive');
	await form.getByLabel(nl['panels.f.reason'])
		.selectOption('credible_account');
	await form.getByLabel(nl['panels.f.rationale'])
		.fill('<b>Consistent</b> verhaal; meerdere indicatoren.');
	await form.getByRole('button', {name: nl['panels.f.vote']}).click();
	await root.getByText(nl['panels.voted']).first().waitFor();
	/* now the votes show, both rationales as text */
	await root.getByText('Te weinig gegevens over de werkgever.').waitFor();
	await root.getByText('<b>Consistent</b> verhaal; meerdere indicatoren.')
		.waitFor();
	assert.equal(await root.locator('b').count(), 0, 'text, never markup');

	/* the medicine member votes; the chair refreshes the panel */
	const med = sessions.panel_med;
	const v3 = await apiCall(med, 'POST', '/v1/cases/' + caseId +
		'/panel/vote', {outcome: 'positive', reason: 'indicators_met'});
	assert.equal(v3.status, 201, JSON.stringify(v3.body));
	assert.equal(v3.body.status, 'decided');
	await page.goto(BASE + '/#/panels?case=' + caseId);
	await root.getByText(nl['panels.d.dissent']).waitFor();
	await root.getByText(fill(nl['panels.decided'], {
		outcome: nl['panels.outcome.positive'],
		stage: nl['queue.stage.conclusive'], on: ''}).slice(0, 20),
		{exact: false}).first().waitFor();
	await root.getByText('Piet Zorg (' + nl['panels.outcome.negative'],
	                     {exact: false}).waitFor();
	await checkScreen(page, 'panels-decided');

	await page.getByRole('button', {name: nl['lang.switch_to.en']}).click();
	await page.waitForFunction(() => document.documentElement.lang === 'en');
	await root.getByRole('heading', {level: 1, name: en['panels.title']})
		.waitFor();
	await checkScreen(page, 'panels-en');
	assertClean(page);
	await page.context().close();
});
