/*
 * publications.test.mjs - the printable report of a publication of the
 * indicators register (issue 13; docs/indicators.md, "Publications"): the
 * analyst publishes a closed period through the API, opens the report
 * (GET /v1/publications/{id} with Accept: text/html, as a browser asks
 * for a page) in Dutch and English; it renders under nrmd's CSP with no
 * console error, one SVG chart and one table per indicator, axe at WCAG
 * 2.1 AA at 1280 and 375 px, screenshots; page.pdf() makes a PDF.
 */
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {writeFileSync} from 'node:fs';
import {join} from 'node:path';

import {
	BASE, SHOTS, assertClean, browser, checkScreen, fixture, newPage,
	withBrowser,
} from './lib.mjs';

let pubId;

withBrowser(async () => {
	const page = await newPage(browser);
	const r = await page.request.post(BASE + '/v1/publications', {
		headers: {Authorization: 'Bearer ' + fixture().keys.analyst},
		data: {period: '2025'},
	});
	assert.ok([200, 201].includes(r.status()), await r.text());
	pubId = (await r.json()).id;
	await page.context().close();
});

for (const lang of ['nl', 'en']) {
	test(`the report renders and prints to PDF (${lang})`, async () => {
		const page = await newPage(browser, {lang});
		await page.context().setExtraHTTPHeaders(
			{Authorization: 'Bearer ' + fixture().keys.analyst});
		const r = await page.goto(
			`${BASE}/v1/publications/${pubId}?lang=${lang}`);
		assert.equal(r.status(), 200);
		assert.match(r.headers()['content-type'], /^text\/html/);
		assert.equal(await page.locator('html').getAttribute('lang'),
		             lang);
		const n = fixture().indicators ?? null;
		const charts = await page.locator('svg[role="img"]').count();
		const tables = await page.locator('table caption').count();
		assert.ok(charts >= 15, `${charts} charts`);
		assert.equal(tables, charts);
		if (n !== null)
			assert.equal(charts, n);
		await checkScreen(page, `publication-report-${lang}`);
		/* the first screenful at both widths, to look at */
		for (const width of [1280, 375]) {
			await page.setViewportSize({width, height: 1000});
			await page.screenshot({path: join(SHOTS,
				`publication-report-${lang}-top-${width}.png`)});
		}
		const pdf = await page.pdf({format: 'A4', printBackground: true});
		assert.equal(pdf.subarray(0, 4).toString('latin1'), '%PDF');
		assert.ok(pdf.length > 1024, `${pdf.length} bytes`);
		writeFileSync(join(SHOTS, `publication-report-${lang}.pdf`), pdf);
		assertClean(page);
		await page.context().close();
	});
}
