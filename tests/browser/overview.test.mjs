/*
 * overview.test.mjs - the national screen (issue 20) in a real browser:
 * the chain director sees every region and the national desk in one
 * table (caption, column and row headers), each row's status as words
 * (never colour alone) and when it was updated; a regional coordinator
 * sees its own region's row only.  axe at WCAG 2.1 AA and screenshots
 * in nl and en at 1280 and 375.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
	BASE, assertClean, browser, checkScreen, en, enrolAndLogin, newPage,
	nl, withBrowser,
} from './lib.mjs';

const prefix = (s) => s.split('{')[0].trim();

withBrowser();

test('the chain director sees every region, coverage in words',
     async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'chain_director');
	/* the chain director's home screen is the overview */
	await page.locator('[data-screen="overview"]').waitFor();
	const root = page.locator('[data-screen="overview"]');
	const table = root.getByRole('table', {name: nl['ov.caption']});
	await table.waitFor();
	const rows = table.locator('tbody tr');
	assert.equal(await rows.count(), 26, '25 regions and the national desk');
	assert.equal(await rows.last().getAttribute('data-region'), 'NATIONAL');
	assert.equal(await table.locator('th[scope="row"]').count(), 26);
	assert.ok(await table.locator('th[scope="col"]').count() >= 10);
	/* each row says its coverage in words */
	const words = [nl['ov.cov.covered'], nl['ov.cov.silent'],
	               nl['ov.cov.nobody']];
	for (let i = 0; i < 26; i++) {
		const t = await rows.nth(i).innerText();
		assert.ok(words.some((w) => t.includes(w)), t);
	}
	await root.getByText(prefix(nl['ov.updated'])).waitFor();
	await checkScreen(page, 'overview');
	await page.getByRole('button', {name: nl['lang.switch_to.en']}).click();
	await page.waitForFunction(() => document.documentElement.lang === 'en');
	await page.locator('[data-screen="overview"]')
		.getByRole('table', {name: en['ov.caption']}).waitFor();
	await page.getByText(prefix(en['ov.updated'])).waitFor();
	await checkScreen(page, 'overview-en');
	assertClean(page);
	await page.context().close();
});

test('a regional coordinator sees its own region only', async () => {
	const page = await newPage(browser);
	await enrolAndLogin(page, 'coordinator_vr09');
	await page.goto(BASE + '/#/overview');
	const table = page.locator('[data-screen="overview"]')
		.getByRole('table', {name: nl['ov.caption']});
	await table.waitFor();
	const rows = table.locator('tbody tr');
	assert.equal(await rows.count(), 1);
	assert.equal(await rows.first().getAttribute('data-region'), 'VR09');
	await checkScreen(page, 'overview-vr09');
	assertClean(page);
	await page.context().close();
});
