/*
 * carework.test.mjs - the care work of a case in a real browser (issue
 * 18): the VR13 coordinator takes a case, writes a note and corrects it
 * (the old one shown as corrected), adds a service with a provider
 * agency that answers referrals; that agency's coordinator (VR09's care
 * agency) finds the referral in its list, with nothing of the person, and
 * accepts it; the holder sees the answer in the plan.  axe at WCAG 2.1 AA
 * and screenshots of both screens at 1280 and 375.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
	assertClean, browser, checkScreen, enrolAndLogin, go, newPage, nl,
	reportSignal, withBrowser,
} from './lib.mjs';

let caseId;

withBrowser(async () => {
	/* a fresh VR13 case from the reporter, through the API */
	caseId = (await reportSignal(browser, {subject: {age_estimate: 30,
	                                                 given_name: 'Ilse'}}))
		.case_id;
});

test('the holder writes notes and a support plan; the provider accepts ' +
     'the referral', async () => {
	const co = await newPage(browser);
	await enrolAndLogin(co, 'coordinator_vr13');
	await go(co, '#/case/' + caseId);
	await co.getByRole('button', {name: nl['case.open']}).click();
	await co.locator('#case-state[data-state="open"]').waitFor();
	await co.locator('form[data-action="take"] button[type="submit"]')
		.click();
	await co.locator('#case-state[data-state="taken"]').waitFor();

	/* a note, then its correction */
	const notes = co.locator('#notes');
	await notes.getByText(nl['note.none']).waitFor();
	await notes.getByLabel(nl['note.text'], {exact: true}).fill('Eerste gesprek, tolk Roemeens.');
	await notes.getByRole('button', {name: nl['note.submit']}).click();
	await notes.locator('li.nrm-note').first().waitFor();
	await notes.getByRole('button', {name: nl['note.correct']}).click();
	await notes.getByLabel(nl['note.text'], {exact: true}).fill('Correctie: tolk Bulgaars.');
	await notes.getByRole('button', {name: nl['note.submit']}).click();
	await notes.locator('li.nrm-note--corrected').waitFor();
	assert.equal(await notes.locator('li.nrm-note').count(), 2);
	assert.equal(await notes.getByRole('button', {name: nl['note.correct']})
		.count(), 1, 'only the correction can be corrected now');

	/* a service for the VR09 care agency: a referral */
	const plan = co.locator('#support');
	await plan.getByLabel(nl['support.service'], {exact: true}).selectOption(
		'shelter_placement');
	await plan.getByLabel(nl['support.provider'], {exact: true}).selectOption({
		label: 'Zorgcoordinatie Utrecht Browser'});
	await plan.getByRole('button', {name: nl['support.submit']}).click();
	const item = plan.locator('li.nrm-support[data-status="requested"]');
	await item.waitFor();
	await item.getByText(nl['support.referral']).waitFor();
	await checkScreen(co, 'case-carework');
	assertClean(co);

	/* the provider's coordinator: the referral, nothing of the person */
	const pr = await newPage(browser);
	await enrolAndLogin(pr, 'coordinator_vr09');
	await go(pr, '#/referrals');
	const ref = pr.locator('li[data-status="requested"]').filter({
		hasText: nl['service.shelter_placement']}).first();
	await ref.waitFor();
	const text = await pr.locator('[data-screen="referrals"]').innerText();
	assert.ok(!text.includes('Ilse') && !text.includes(caseId), text);
	await ref.getByText('Zorgcoordinatie Amsterdam Browser').waitFor();
	await checkScreen(pr, 'referrals');
	await ref.getByRole('button', {name: nl['ref.accept']}).click();
	await pr.locator('#referral-alert').getByText(nl['ref.done.accept'])
		.waitFor();
	assertClean(pr);

	/* the holder sees the answer */
	await go(co, '#/case/' + caseId);
	await co.getByRole('button', {name: nl['case.open']}).click();
	await co.locator('#support li.nrm-support[data-status="accepted"]')
		.waitFor();
	await co.context().close();
	await pr.context().close();
});
