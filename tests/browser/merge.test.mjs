/*
 * merge.test.mjs - repeat signals on the case screen in a real browser
 * (issue 18): two signals about one person reach VR13; its coordinator
 * opens the second, shows the related cases (dates and regions only),
 * merges it into the first through the confirm dialog (a missing reason
 * is named at its field), sees the merged state with its link to the
 * target, follows it and finds the duplicate listed there.  axe at WCAG
 * 2.1 AA and screenshots at 1280 and 375 px of the dialog, the merged
 * case and the target.
 */
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {test} from 'node:test';

import {
	assertClean, browser, checkScreen, enrolAndLogin, expect, go, newPage,
	nl, reportSignal, withBrowser,
} from './lib.mjs';

const ids = [];

withBrowser(async () => {
	/* one person, two signals (the second a repeat), through the API */
	const family = 'Dubbel' + randomUUID().slice(0, 8);
	for (let i = 0; i < 2; i++)
		ids.push((await reportSignal(browser, {subject: {age_estimate: 30,
			given_name: 'Mira', family_name: family,
			birth_date: '1993-04-05'}})).case_id);
});

async function open(page, id) {
	await go(page, '#/case/' + id);
	await page.getByRole('button', {name: nl['case.open']}).click();
	await page.locator('#case-state').waitFor();
}

test('a repeat signal is merged into the case it repeats', async () => {
	const [first, dup] = ids;
	const co = await newPage(browser);
	await enrolAndLogin(co, 'coordinator_vr13');
	await open(co, dup);
	await co.locator('#case-state[data-state="open"]').waitFor();

	/* the related cases, on request: the first case, no merge yet */
	const rel = co.locator('#related');
	await rel.getByRole('button', {name: nl['related.show']}).click();
	const row = co.locator('#related-table tbody tr');
	await row.first().waitFor();
	assert.equal(await row.count(), 1);
	const text = await rel.innerText();
	assert.ok(!text.includes('Mira'), 'dates and regions only: ' + text);
	await rel.getByRole('link', {name: first.slice(0, 8)}).waitFor();

	/* the confirm dialog; without a reason the server names the field */
	await row.getByRole('button').click();
	const dlg = co.getByRole('dialog', {name: nl['merge.title']});
	await dlg.waitFor();
	await checkScreen(co, 'merge-dialog');
	expect(co, 422, '/merge');
	await dlg.getByRole('button', {name: nl['merge.confirm']}).click();
	await dlg.locator('#f-merge-reason[aria-invalid="true"]').waitFor();
	await dlg.getByText(nl['err.reason']).first().waitFor();
	/* cancel keeps everything as it was */
	await dlg.getByRole('button', {name: nl['merge.cancel']}).click();
	await co.locator('#merge-dialog').waitFor({state: 'detached'});
	await co.locator('#case-state[data-state="open"]').waitFor();

	await row.getByRole('button').click();
	await dlg.getByLabel(nl['merge.reason'], {exact: true}).selectOption(
		'same_situation');
	await dlg.getByRole('button', {name: nl['merge.confirm']}).click();
	await co.locator('#case-state[data-state="merged"]').waitFor();
	await co.locator('#case-merged-final').waitFor();
	await co.getByText(nl['case.done.merge'].replace('{id}',
		dup.slice(0, 8))).first().waitFor();
	/* no action but the terminal note; notes are not written here */
	assert.equal(await co.locator('form.nrm-action').count(), 0);
	assert.equal(await co.locator('#note-form').count(), 0);
	/* identification and the police share go on in the target (409 here) */
	await co.locator('#ident-merged').waitFor();
	assert.equal(await co.locator('#ident-form').count(), 0);
	assert.equal(await co.locator('#share-form').count(), 0);
	await checkScreen(co, 'case-merged');

	/* the link to the target, which lists the duplicate */
	await co.locator('#case-merged-link').click();
	await co.getByRole('button', {name: nl['case.open']}).click();
	await co.locator('#case-merged-from').waitFor();
	assert.ok((await co.locator('#case-merged-from').innerText()).includes(
		nl['merge.same_situation']));
	await co.locator('#case-state[data-state="open"]').waitFor();
	await checkScreen(co, 'case-merge-target');
	assertClean(co);
	await co.context().close();
});
