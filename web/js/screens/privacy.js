/*
 * screens/privacy.js - the privacy officer (issue 15): a data subject's
 * export, by case number or by name and birth date (sent in the request
 * body, never in the address), shown as a summary and downloaded as a
 * JSON file; the rectification of one subject field with its ground; and
 * the erasure of a case's personal data before the schedule with its
 * art. 17 ground, after an explicit confirmation.  Every call is audited
 * by the server.
 */
import {h, heading, para, field, select, check, button, alert, clear,
	announce} from '../dom.js';
import {showProblem, clearProblems, dateTime} from '../i18n.js';

const FIELDS = ['given_name', 'family_name', 'birth_date', 'phone',
                'address', 'narrative'];
const RECTIFY_GROUNDS = ['inaccurate', 'incomplete'];
const ERASE_GROUNDS = ['no_longer_necessary', 'consent_withdrawn',
                       'objection', 'unlawfully_processed',
                       'legal_obligation', 'child_information_society'];

/* A form with its problem summary box. */
function form(label, ...kids) {
	return h('form', {class: 'nrm-form', novalidate: true,
	                  'aria-label': label},
		h('div', {class: 'utrecht-alert utrecht-alert--error ' +
		          'nrm-form-alert', role: 'alert', tabindex: '-1',
		          hidden: true}),
		...kids);
}

const value = (f, name) => f.querySelector('[name="' + name + '"]').value
	.trim();

/* Offer `body` as a JSON file to save (a blob, no server round trip). */
function download(body, name) {
	const blob = new Blob([JSON.stringify(body, null, 2) + '\n'],
	                      {type: 'application/json'});
	const url = URL.createObjectURL(blob);
	const a = h('a', {href: url, download: name, hidden: true});
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/* The export's summary: how many cases, each by number and name. */
function exportView(body, t) {
	const name = (c) => [c.subject.given_name, c.subject.family_name]
		.filter(Boolean).join(' ') || t('pv.no_name');
	const file = 'nrm-export-' + body.exported_at.slice(0, 10) + '.json';
	return h('div', {class: 'nrm-section', dataset: {export: body.found_by}},
		alert('ok', t('pv.found', {n: body.cases.length})),
		body.cases.length ? h('ul', {class: 'utrecht-unordered-list'},
			body.cases.map((c) => h('li', {class: 'utrecht-unordered-list__item'},
				h('span', {class: 'nrm-mono'}, c.case.case_id), ' ',
				c.erased ? t('pv.erased_line', {at: dateTime(c.erased.at)})
				         : name(c)))) : null,
		h('div', {class: 'nrm-actions'},
		  button(t('pv.download'), {type: 'button',
		          onclick: () => download(body, file)})));
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	const opts = (list, prefix) => list.map((v) => [v, t(prefix + v)]);

	const byCase = form(t('pv.export.case'),
		field('case', t('pv.case_id'), {attrs: {autocomplete: 'off',
		      spellcheck: 'false'}}),
		h('div', {class: 'nrm-actions'},
		  button(t('pv.export.submit'), {type: 'submit'})));
	const byName = form(t('pv.export.name'),
		field('given_name', t('pv.f.given_name'), {attrs:
		      {autocomplete: 'off'}}),
		field('family_name', t('pv.f.family_name'), {attrs:
		      {autocomplete: 'off'}}),
		field('birth_date', t('pv.f.birth_date'), {type: 'date'}),
		h('div', {class: 'nrm-actions'},
		  button(t('pv.export.submit'), {type: 'submit'})));
	const result = h('div', {'aria-live': 'polite'});
	const rectify = form(t('pv.rectify'),
		field('case', t('pv.case_id'), {id: 'f-rect-case', attrs:
		      {autocomplete: 'off', spellcheck: 'false'}}),
		select('field', t('pv.field'), opts(FIELDS, 'pv.f.')),
		field('value', t('pv.value'), {attrs: {autocomplete: 'off'}}),
		select('ground', t('pv.ground'), opts(RECTIFY_GROUNDS, 'pv.g.'),
		       {id: 'f-rect-ground'}),
		h('div', {class: 'nrm-actions'},
		  button(t('pv.rectify.submit'), {type: 'submit'})));
	const rectified = h('div', {'aria-live': 'polite'});
	const erase = form(t('pv.erase'),
		field('case', t('pv.case_id'), {id: 'f-erase-case', attrs:
		      {autocomplete: 'off', spellcheck: 'false'}}),
		select('ground', t('pv.ground'), opts(ERASE_GROUNDS, 'pv.g.'),
		       {id: 'f-erase-ground', empty: t('pv.choose')}),
		check('confirm', t('pv.erase.confirm')),
		h('div', {class: 'nrm-actions'},
		  button(t('pv.erase.submit'), {type: 'submit'})));
	const erased = h('div', {'aria-live': 'polite'});

	root.append(heading(1, t('pv.title')), para(t('pv.intro')),
		heading(2, t('pv.export')), para(t('pv.export.note')),
		heading(3, t('pv.export.case')), byCase,
		heading(3, t('pv.export.name')), byName, result,
		heading(2, t('pv.rectify')), para(t('pv.rectify.note')), rectify,
		rectified,
		heading(2, t('pv.erase')), alert('warning', t('pv.erase.note')),
		erase, erased);

	/* The answer of an export: its summary, or the problem. */
	async function exported(f, r) {
		if (!ctx.alive() || r.expired)
			return;
		if (r.status === 200) {
			result.append(exportView(r.body, t));
			announce(t('pv.found', {n: r.body.cases.length}));
		} else {
			showProblem(f, r.body, r.status);
		}
	}
	byCase.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(byCase);
		clear(result);
		await exported(byCase, await api.get('/v1/privacy/subjects?case=' +
			encodeURIComponent(value(byCase, 'case'))));
	});
	byName.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(byName);
		clear(result);
		const body = {family_name: value(byName, 'family_name'),
		              birth_date: value(byName, 'birth_date')};
		if (value(byName, 'given_name'))
			body.given_name = value(byName, 'given_name');
		await exported(byName, await api.post('/v1/privacy/subjects',
		                                      body));
	});
	rectify.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(rectify);
		clear(rectified);
		const id = value(rectify, 'case');
		const r = await api.post('/v1/privacy/cases/' +
			encodeURIComponent(id) + '/rectify', {
			field: value(rectify, 'field'),
			value: value(rectify, 'value'),
			ground: value(rectify, 'ground')});
		if (!ctx.alive() || r.expired)
			return;
		if (r.status !== 200) {
			showProblem(rectify, r.body, r.status);
			return;
		}
		rectified.append(alert('ok', t('pv.rectified', {
			field: t('pv.f.' + r.body.field),
			at: dateTime(r.body.rectified_at)})));
		rectify.querySelector('[name="value"]').value = '';
	});
	erase.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(erase);
		clear(erased);
		if (!erase.querySelector('[name="confirm"]').checked) {
			showProblem(erase, {type: 'urn:nrm:problem:validation',
			                    field: 'confirm'}, 422);
			return;
		}
		const id = value(erase, 'case');
		const r = await api.post('/v1/privacy/cases/' +
			encodeURIComponent(id) + '/erase',
			{ground: value(erase, 'ground')});
		if (!ctx.alive() || r.expired)
			return;
		if (r.status !== 200) {
			showProblem(erase, r.body, r.status);
			return;
		}
		erased.append(alert('ok', t('pv.erased', {
			at: dateTime(r.body.erased.at),
			ground: t('pv.g.' + r.body.erased.ground)})));
		erase.querySelector('[name="confirm"]').checked = false;
	});
}
