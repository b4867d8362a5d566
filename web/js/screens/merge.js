/*
 * screens/merge.js - repeat signals on the case screen (issue 18): the
 * other cases of the same person in the caller's regions (GET
 * /v1/cases/{id}/related: dates and regions only, an audited read, so
 * shown on request) and the merge of this case, a duplicate, into one of
 * them (POST /v1/cases/{id}/merge), asked in a confirm dialog with its
 * reason code.  A merge is offered only where the server would allow it:
 * this case open or held by the caller, the related case not merged
 * itself.  The merged state with its link is drawn by case.js.  Text
 * only through dom.js.
 */
import {h, heading, para, select, button, link} from '../dom.js';
import {code, dateTime, clearProblems} from '../i18n.js';
import {regionName} from '../regions.js';
import {formAlert, shortId, table, getInto} from './parts.js';

export const MERGE_REASONS = ['same_situation', 'repeat_report',
	'new_information', 'other'];

/*
 * The related section of case c.  act(name, body, form) is case.js's
 * action call (If-Match, conflicts, re-read); it answers the status.
 */
export function relatedSection(ctx, c, act) {
	const {t} = ctx;
	const list = h('div', {id: 'related-list', 'aria-live': 'polite'});
	const mergeable = c.state === 'open' ||
		(c.state === 'taken' && c.held_by_me);

	/* The confirm dialog of a merge into related case r. */
	function confirmMerge(r, opener) {
		const form = h('form', {class: 'nrm-form', novalidate: true,
		                        id: 'merge-form', method: 'dialog'},
			formAlert(),
			select('reason', t('merge.reason'), MERGE_REASONS.map((x) =>
				[x, t('merge.' + x)]), {id: 'f-merge-reason',
				empty: t('case.choose')}),
			h('div', {class: 'nrm-actions'},
			  button(t('merge.confirm'), {type: 'submit'},
			         'primary-action'),
			  button(t('merge.cancel'), {type: 'button',
			         id: 'merge-cancel', onclick: () => close()})));
		const dlg = h('dialog', {class: 'nrm-dialog', id: 'merge-dialog',
		                         'aria-labelledby': 'merge-title',
		                         'aria-describedby': 'merge-text'},
			heading(2, t('merge.title'), {id: 'merge-title'}),
			para(t('merge.text', {from: c.reference,
			                      region: regionName(r.region),
			                      received: dateTime(r.received_at)}),
			     {id: 'merge-text'}),
			para(t('merge.final')),
			form);
		function close() {
			dlg.close();
			dlg.remove();
			if (opener.isConnected)
				opener.focus();
		}
		dlg.addEventListener('cancel', (e) => {
			e.preventDefault();
			close();
		});
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clearProblems(form);
			const reason = form.querySelector('#f-merge-reason').value;
			const status = await act('merge', {into: r.case_id, reason},
			                         form);
			/* done, or a conflict shown on the case: the dialog goes */
			if (status === 200 || status === 409 || status === 412) {
				dlg.close();
				dlg.remove();
			}
		});
		document.body.append(dlg);
		dlg.showModal();
		form.querySelector('#f-merge-reason').focus();
	}

	function row(r) {
		if (r.merged_into)
			return [t('related.merged_into'), ' ',
			        link('#/case/' + encodeURIComponent(r.merged_into),
			             r.merged_into === c.case_id ? t('related.this')
			             : shortId(r.merged_into))];
		if (!mergeable)
			return t('related.open');
		const b = button(t('related.merge'), {
			class: 'utrecht-button utrecht-button--html-button' +
			       ' utrecht-button--secondary-action',
			'aria-label': t('related.merge.label', {
				received: dateTime(r.received_at),
				region: regionName(r.region)}),
			onclick: () => confirmMerge(r, b)});
		return b;
	}

	async function show() {
		const b = await getInto(ctx, list, '/v1/cases/' +
		                        encodeURIComponent(c.case_id) + '/related');
		if (!b)
			return;
		list.append(table([
			{label: t('related.received'), cell: (x) => dateTime(x.received_at)},
			{label: t('related.region'), cell: (x) => regionName(x.region)},
			{label: t('related.case'), cell: (x) => link('#/case/' +
				encodeURIComponent(x.case_id), shortId(x.case_id))},
			{label: t('related.state'), cell: row}],
			b.items, {caption: t('related.caption'),
			               empty: t('related.none'),
			               attrs: {id: 'related-table'}}));
	}

	return h('section', {class: 'nrm-section', id: 'related',
	                     'aria-labelledby': 'related-title'},
		heading(2, t('related.title'), {id: 'related-title'}),
		para(t('related.help')),
		mergeable ? para(t('related.merge.help')) : null,
		h('div', {class: 'nrm-actions'},
		  button(t('related.show'), {id: 'related-show', onclick: show})),
		list);
}

/* The merge facts of case c: [term, value, attrs] rows for case.js. */
export function mergeFacts(t, c) {
	const rows = [];
	if (c.merged)
		rows.push(['case.f.merged', [
			t('case.merged.into'), ' ',
			link('#/case/' + encodeURIComponent(c.merged.into),
			     c.merged.reference || shortId(c.merged.into),
			     {id: 'case-merged-link'}),
			' (', dateTime(c.merged.at), ', ',
			code('merge', c.merged.reason), ')'], {id: 'case-merged'}]);
	if (c.merged_from)
		rows.push(['case.f.merged_from', h('ul', {class: 'nrm-plain-list'},
			c.merged_from.map((m) => h('li', null,
				link('#/case/' + encodeURIComponent(m.case_id), m.reference),
				' (', regionName(m.region), ', ', dateTime(m.merged_at),
				', ', code('merge', m.reason), ')'))),
			{id: 'case-merged-from'}]);
	return rows;
}
