/*
 * screens/receipts.js - the reporter's receipts: the agency's signals,
 * newest first, from GET /v1/signals (each item is what the receipt
 * shows, no personal data; "more" pages by next_cursor), and a look-up
 * of one receipt by its signal number (GET /v1/signals/{id}).  A receipt
 * with a case offers a follow-up (POST /v1/signals/{id}/followups,
 * issue 18): more information for whoever holds the case; the answer
 * says only whether the case was taken up.
 */
import {h, heading, para, field, button, alert, clear, announce} from '../dom.js';
import {code, dateTime, showProblem, clearProblems, problemMessage} from '../i18n.js';
import {newKey} from '../api.js';
import {regionName} from '../regions.js';

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

/*
 * The follow-up form of receipt r (a case): a disclosure, so a long list
 * stays short.  One Idempotency-Key per text sent: kept until an answer
 * says the follow-up was stored or refused, so a retry after a network
 * failure sends the same request.
 */
export function followupForm(r, ctx, n) {
	const {t, api} = ctx;
	const id = 'fu-' + n;
	const status = h('div', {'aria-live': 'polite'});
	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        dataset: {followup: r.signal_id}},
		h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
		          role: 'alert', tabindex: '-1', hidden: true}),
		para(t('followup.help')),
		field('text', t('followup.text'), {id, multiline: true, rows: 3,
			attrs: {maxlength: '8000'}}),
		h('div', {class: 'nrm-actions'},
		  button(t('followup.submit'), {type: 'submit'})),
		status);
	let key = null;
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		clear(status);
		key = key || newKey();
		const res = await api.post('/v1/signals/' +
			encodeURIComponent(r.signal_id) + '/followups',
			{text: form.querySelector('#' + id).value},
			{headers: {'Idempotency-Key': key}});
		if (!ctx.alive() || res.expired)
			return;
		if (res.status !== 0 && res.status !== 409 && res.status < 500)
			key = null;
		if (res.status === 201) {
			form.querySelector('#' + id).value = '';
			const msg = t(res.body.taken_up ? 'followup.sent.taken'
			                                : 'followup.sent.open');
			status.append(alert('ok', msg));
			announce(msg);
			return;
		}
		showProblem(form, res.body, res.status);
	});
	return h('details', {class: 'nrm-followup'},
		h('summary', null, t('followup.new')), form);
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
		heading(2, t('receipts.agency')), list,
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
			found.append(receiptView(r.body, t), r.body.case_id ?
				followupForm(r.body, ctx, 'found') : null);
			return;
		}
		showProblem(lookup, r.status === 404 ?
			{type: 'urn:nrm:problem:not_found', field: 'signal_id'} :
			r.body, r.status);
	});
	let n = 0;
	async function page(cursor) {
		const q = '/v1/signals?limit=20' +
			(cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
		const r = await api.get(q);
		if (!ctx.alive() || r.expired)
			return;
		const more = list.querySelector('.nrm-more');
		if (more)
			more.remove();
		if (r.status !== 200) {
			list.append(alert('error', problemMessage(r.body, r.status)));
			return;
		}
		if (!cursor && !r.body.items.length)
			list.append(para(t('receipts.none')));
		for (const item of r.body.items) {
			n++;
			list.append(h('section', {class: 'nrm-receipt',
			                          'aria-labelledby': 'rh-' + n},
				heading(3, t('receipts.item', {
					when: dateTime(item.received_at)}), {id: 'rh-' + n}),
				receiptView(item, t),
				item.case_id ? followupForm(item, ctx, n) : null));
		}
		if (r.body.next_cursor)
			list.append(h('div', {class: 'nrm-actions nrm-more'},
				button(t('receipts.more'), {onclick: () =>
					page(r.body.next_cursor)})));
	}
	await page(null);
}
