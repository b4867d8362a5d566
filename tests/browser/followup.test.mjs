/*
 * followup.test.mjs - follow-ups from the reporter and later consent in
 * a real browser (issue 18): the reporter finds its signal on the
 * receipts screen, sends more information and hears only that the case
 * was not taken up yet; the VR13 coordinator sees the follow-up on the
 * case screen; the signal form takes a cited reference and names it at
 * the field when mistyped.  axe at WCAG 2.1 AA and screenshots at 1280
 * and 375.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
	assertClean, browser, checkScreen, enrolAndLogin, expect, go, newPage,
	nl, reportSignal, withBrowser,
} from './lib.mjs';

let rec;

withBrowser(async () => {
	/* a fresh VR13 case from the reporter, through the API */
	rec = await reportSignal(browser, {subject: {age_estimate: 31,
	                                             given_name: 'Mirela'}});
});

test('the reporter sends a follow-up; the coordinator reads it on the case',
     async () => {
	const rep = await newPage(browser);
	await enrolAndLogin(rep, 'reporter');
	await go(rep, '#/receipts');
	const item = rep.locator(`[data-screen="receipts"] section:has(` +
		`[data-receipt="${rec.signal_id}"])`);
	await item.waitFor();
	await item.getByText(nl['followup.new']).click();
	await item.getByLabel(nl['followup.text'], {exact: true})
		.fill('Mirela heeft een nieuw telefoonnummer.');
	await item.getByRole('button', {name: nl['followup.submit']}).click();
	await item.getByText(nl['followup.sent.open']).waitFor();
	/* nothing of the care: only whether it was taken up */
	const text = await item.innerText();
	assert.ok(!text.includes('Zorgcoordinatie'), text);
	await checkScreen(rep, 'receipts-followup');
	assertClean(rep);

	const co = await newPage(browser);
	await enrolAndLogin(co, 'coordinator_vr13');
	await go(co, '#/case/' + rec.case_id);
	await co.getByRole('button', {name: nl['case.open']}).click();
	const fu = co.locator('#followups');
	await fu.getByText('Mirela heeft een nieuw telefoonnummer.').waitFor();
	await checkScreen(co, 'case-followups');
	assertClean(co);
	await co.context().close();
	await rep.context().close();
});

test('the signal form takes a cited reference and names a mistyped one',
     async () => {
	const rep = await newPage(browser);
	await enrolAndLogin(rep, 'reporter');
	await go(rep, '#/signal');
	const form = rep.locator('[data-screen="signal"] form');
	const cited = form.getByLabel(nl['signal.cites_reference'],
		{exact: true});
	await cited.waitFor();
	/* a wrong check character: 422 at the field, nothing stored */
	await cited.fill('2222-2222-3');
	await form.getByLabel(nl['signal.age_estimate'], {exact: true})
		.fill('35');
	await form.locator('input[name="exploitation"][value="labour"]')
		.check();
	await form.locator('input[name="consent"][value="given"]').check();
	expect(rep, 422, '/v1/signals');
	await form.getByRole('button', {name: nl['signal.submit']}).click();
	await form.getByText(nl['err.cites_reference']).first().waitFor();
	assert.equal(await cited.getAttribute('aria-invalid'), 'true');
	await checkScreen(rep, 'signal-cites-reference');
	assertClean(rep);
	await rep.context().close();
});
