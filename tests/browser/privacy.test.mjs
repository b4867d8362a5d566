/*
 * privacy.test.mjs - the privacy officer's screen (issue 15) in a real
 * browser: an export by case number shows the case and downloads a JSON
 * file holding it; a rectification is confirmed; an erasure needs the
 * confirmation box, then is confirmed; axe at WCAG 2.1 AA and
 * screenshots at 1280 and 375.
 */
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {test} from 'node:test';

import {
	assertClean, browser, checkScreen, enrolAndLogin, newPage, nl,
	reportSignal, withBrowser,
} from './lib.mjs';

let caseId;
const family = 'Privacytest' + randomUUID().slice(0, 6);

withBrowser(async () => {
	/* a case about a named person, from the reporter */
	caseId = (await reportSignal(browser, {subject: {given_name: 'Ilse',
		family_name: family, birth_date: '1991-04-05'}})).case_id;
});

test('the privacy officer exports, rectifies and erases a case',
     async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'privacy_officer');
	/* the privacy officer's home screen */
	const root = page.locator('[data-screen="privacy"]');
	await root.getByRole('heading', {level: 1, name: nl['pv.title']})
		.waitFor();

	/* export by case number: the case, and a JSON file to save */
	const byCase = root.getByRole('form', {name: nl['pv.export.case']});
	await byCase.getByLabel(nl['pv.case_id']).fill(caseId);
	await byCase.getByRole('button', {name: nl['pv.export.submit']})
		.click();
	await root.getByText(caseId).waitFor();
	await root.getByText('Ilse ' + family).waitFor();
	const [dl] = await Promise.all([
		page.waitForEvent('download'),
		root.getByRole('button', {name: nl['pv.download']}).click()]);
	assert.match(dl.suggestedFilename(), /^nrm-export-\d{4}-\d\d-\d\d\.json$/);
	const file = JSON.parse(await readFile(await dl.path(), 'utf8'));
	assert.equal(file.format, 'nrm.subject-export.v1');
	assert.equal(file.cases[0].case.case_id, caseId);
	assert.equal(file.cases[0].subject.family_name, family);
	await checkScreen(page, 'privacy-export');

	/* rectify the birth date */
	const rect = root.getByRole('form', {name: nl['pv.rectify']});
	await rect.getByLabel(nl['pv.case_id']).fill(caseId);
	await rect.getByLabel(nl['pv.field']).selectOption('birth_date');
	await rect.getByLabel(nl['pv.value']).fill('1991-05-04');
	await rect.getByLabel(nl['pv.ground']).selectOption('inaccurate');
	await rect.getByRole('button', {name: nl['pv.rectify.submit']}).click();
	await root.getByText(nl['pv.rectified'].replace('{field}',
		nl['pv.f.birth_date']).split('{')[0].trim()).waitFor();

	/* erase: refused without the confirmation, done with it */
	const er = root.getByRole('form', {name: nl['pv.erase']});
	await er.getByLabel(nl['pv.case_id']).fill(caseId);
	await er.getByLabel(nl['pv.ground']).selectOption('consent_withdrawn');
	await er.getByRole('button', {name: nl['pv.erase.submit']}).click();
	await er.getByText(nl['err.confirm']).first().waitFor();
	await er.getByLabel(nl['pv.erase.confirm']).check();
	await er.getByRole('button', {name: nl['pv.erase.submit']}).click();
	await root.getByText(nl['pv.erased'].split('{')[0].trim()).waitFor();
	await checkScreen(page, 'privacy-erased');

	/* the export now says the data were erased */
	await byCase.getByRole('button', {name: nl['pv.export.submit']})
		.click();
	await root.getByText(nl['pv.erased_line'].split('{')[0].trim())
		.waitFor();
	assertClean(page);
	await page.context().close();
});
