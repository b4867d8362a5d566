/*
 * screens/referrals.js - the referrals made to the caller's agency
 * (issue 18, GET /v1/referrals), for a provider agency's coordinator: the
 * service, its status and dates, who referred it from which region;
 * nothing of the case (docs/authorization.md, "Provider agencies").  A
 * requested referral is accepted, or refused with a reason code
 * (POST /v1/referrals/{id}/accept|refuse); a 409 means someone else
 * answered first, and the list shows the answer that stands.
 */
import {h, heading, para, select, button, alert, clear,
        announce} from '../dom.js';
import {code, dateTime, date, showProblem, clearProblems} from '../i18n.js';
import {regionName} from '../regions.js';
import {formAlert, shortId, getInto} from './parts.js';
import {REFUSALS, supportHead} from './carework.js';

export async function render(root, ctx) {
	const {t, api} = ctx;
	const list = h('div', {id: 'referral-list', 'aria-live': 'polite'});
	const notice = h('div', {id: 'referral-alert'});
	root.append(heading(1, t('ref.title')), para(t('ref.intro')), notice,
	            list);

	function answerForm(r, n) {
		const form = h('form', {class: 'nrm-form nrm-inline-form',
		                        novalidate: true,
		                        'aria-label': t('ref.answer.label', {
		                        service: code('service', r.service)})},
			formAlert(),
			select('reason', t('ref.reason'), REFUSALS.map((x) =>
				[x, code('sreason', x)]), {id: 'f-reason-' + n,
				empty: t('case.choose'),
				description: t('ref.reason.help')}),
			h('div', {class: 'nrm-actions'},
			  button(t('ref.accept'), {type: 'button', onclick: () =>
				  answer(form, r, 'accept', {})}, 'primary-action'),
			  button(t('ref.refuse'), {type: 'submit'},
			         'secondary-action')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			const reason = form.querySelector('#f-reason-' + n).value;
			answer(form, r, 'refuse', reason ? {reason} : {});
		});
		return form;
	}

	async function answer(form, r, what, body) {
		clearProblems(form);
		const a = await api.post('/v1/referrals/' + encodeURIComponent(r.id) +
		                         '/' + what, body);
		if (!ctx.alive() || a.expired)
			return;
		clear(notice);
		if (a.status === 409) {
			notice.append(alert('warning', t('ref.already', {
				status: code('sstatus', a.body.current)})));
			await show();
			return;
		}
		if (a.status !== 200) {
			showProblem(form, a.body, a.status);
			return;
		}
		const msg = t('ref.done.' + what);
		announce(msg);
		notice.append(alert('ok', msg));
		await show();
	}

	async function show() {
		const b = await getInto(ctx, list, '/v1/referrals');
		if (!b)
			return;
		if (!b.items.length) {
			list.append(para(t('ref.none')));
			return;
		}
		list.append(h('ul', {class: 'nrm-supports'}, b.items.map((x, n) =>
			h('li', {class: 'nrm-support', dataset: {referral: x.id,
			                                         status: x.status}},
			  supportHead(x),
			  h('p', {class: 'utrecht-paragraph'},
			    t('ref.from', {agency: x.referred_by.agency,
			                   region: regionName(x.referred_by.region)})),
			  h('p', {class: 'utrecht-paragraph nrm-support__dates'},
			    t('support.requested_on', {d: date(x.requested_on)}),
			    x.answered_at ? ' · ' + t('ref.answered_at',
			                              {at: dateTime(x.answered_at)}) : '',
			    ' · ', t('ref.reference'), ' ', shortId(x.id)),
			  x.status === 'requested' ? answerForm(x, n) : null))));
	}
	await show();
}
