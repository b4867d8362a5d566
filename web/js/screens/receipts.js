/*
 * screens/receipts.js - the reporter's receipts.  The API has no list of an
 * agency's signals (only GET /v1/signals/{id}, for the agency that sent
 * it), so the console keeps the ids of the signals sent in this browser
 * session (sessionStorage, cleared at logout) and reads each receipt from
 * the server; any other receipt of the agency can be looked up by its id.
 */
import {h, heading, para, field, button, alert, clear} from '../dom.js';
import {code, dateTime, showProblem, clearProblems} from '../i18n.js';
import {regionName} from '../regions.js';

const KEY = 'nrm.receipts';

export function sessionReceipts() {
	try {
		const v = JSON.parse(sessionStorage.getItem(KEY) || '[]');
		return Array.isArray(v) ? v : [];
	} catch (e) {
		return [];
	}
}

/* Keep a signal id (newest first, once). */
export function keepReceipt(r) {
	const ids = sessionReceipts().filter((id) => id !== r.signal_id);
	ids.unshift(r.signal_id);
	try {
		sessionStorage.setItem(KEY, JSON.stringify(ids.slice(0, 100)));
	} catch (e) {
		/* storage full or refused: the receipt is still on screen */
	}
}

/* A receipt as a description list. */
export function receiptView(r, t, idPrefix) {
	const row = (k, v, attrs) => [h('dt', null, t(k)), h('dd', attrs, v)];
	return h('dl', {class: 'nrm-facts', id: idPrefix ? idPrefix + r.signal_id : null,
	                dataset: {receipt: r.signal_id}},
		row('receipt.kind', r.notification_only ? t('receipt.kind.notification')
		                                        : t('receipt.kind.case'),
		    {dataset: {kind: r.notification_only ? 'notification' : 'case'}}),
		row('receipt.region', regionName(r.region), {dataset: {region: r.region}}),
		row('receipt.rule', r.rule_id, {class: 'nrm-mono'}),
		r.notification_only ? null : row('receipt.priority', code('priority', r.priority)),
		row('receipt.received_at', dateTime(r.received_at)),
		row('receipt.signal_id', r.signal_id, {class: 'nrm-mono'}),
		r.case_id ? row('receipt.case_id', r.case_id, {class: 'nrm-mono'}) : null);
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	const list = h('div', {class: 'nrm-section', 'aria-live': 'polite'});
	const lookup = h('form', {class: 'nrm-inline-form', novalidate: true},
		h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
		          role: 'alert', tabindex: '-1', hidden: true}),
		field('signal_id', t('receipts.lookup.id'), {
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		h('div', {class: 'nrm-actions'},
		  button(t('receipts.lookup.submit'), {type: 'submit'})));
	const found = h('div', {'aria-live': 'polite'});
	root.append(
		heading(1, t('receipts.title')),
		alert('info', t('receipts.note')),
		h('p', {class: 'utrecht-paragraph'},
		  h('a', {class: 'utrecht-link utrecht-link--html-a', href: '#/signal'},
		    t('receipts.new'))),
		heading(2, t('receipts.session')), list,
		heading(2, t('receipts.lookup')), lookup, found);
	lookup.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(lookup);
		clear(found);
		const id = lookup.querySelector('#f-signal_id').value.trim();
		const r = await api.get('/v1/signals/' + encodeURIComponent(id));
		if (!ctx.alive() || r.expired)
			return;
		if (r.status === 200) {
			found.append(receiptView(r.body, t));
			return;
		}
		showProblem(lookup, r.status === 404 ?
			{type: 'urn:nrm:problem:not_found', field: 'signal_id'} :
			r.body, r.status);
	});
	const ids = sessionReceipts();
	if (!ids.length) {
		list.append(para(t('receipts.none')));
		return;
	}
	list.append(para(t('common.loading')));
	const answers = await Promise.all(ids.map((id) =>
		api.get('/v1/signals/' + encodeURIComponent(id))));
	if (!ctx.alive() || answers.some((a) => a.expired))
		return;
	clear(list);
	answers.forEach((a, i) => {
		list.append(h('section', {class: 'nrm-receipt',
		                          'aria-labelledby': 'rh-' + i},
			heading(3, t('receipts.item', {n: ids.length - i}), {id: 'rh-' + i}),
			a.status === 200 ? receiptView(a.body, t)
			                 : alert('warning', t('receipts.unreadable'))));
	});
}
