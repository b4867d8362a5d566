/*
 * screens/carework.js - the care work of a case on the case screen
 * (issue 18): its notes (GET/POST /v1/cases/{id}/notes: an audited read
 * of personal data, append-only, a correction names the note it
 * corrects) and its support plan (GET/POST /v1/cases/{id}/support:
 * services, their provider agency and status).  Only the holder keeps
 * the plan and writes notes (the national desk writes notes too); the
 * server decides, the screen offers what fits.  And the reporter's
 * follow-ups (GET /v1/cases/{id}/followups, an audited read: made only
 * when the case counts any).  Text only through dom.js.
 */
import {h, heading, para, field, select, button, clear,
        announce} from '../dom.js';
import {code, dateTime, date} from '../i18n.js';
import {formAlert, shortId, getInto, postForm} from './parts.js';

export const SERVICES = ['shelter_placement', 'categorical_shelter',
	'medical_care', 'mental_health', 'legal_aid', 'interpreter',
	'residence_procedure', 'benefits', 'education_minor', 'guardian_minor',
	'return_assistance', 'other'];
export const REFUSALS = ['no_capacity', 'not_eligible', 'outside_area',
	'service_unavailable', 'person_declined', 'other'];
const ENDS = ['completed', 'withdrawn', 'person_declined', 'other'];
/* The holder's changes (docs/case-lifecycle.md); a referral's answer is
 * its provider's. */
const NEXT = {requested: ['accepted', 'refused', 'ended'],
              accepted: ['started', 'ended'], started: ['ended']};

const caseUrl = (id, what) =>
	'/v1/cases/' + encodeURIComponent(id) + '/' + what;

/*
 * The reporter's follow-ups of case c (read-only; free(s) as for the
 * notes).  Read only when the case counts any: every read is audited.
 */
export function followupsSection(ctx, c, free) {
	const {t} = ctx;
	const list = h('div', {id: 'followups-list', 'aria-live': 'polite'});
	async function show() {
		const b = await getInto(ctx, list, caseUrl(c.case_id, 'followups'),
		                        {headers: {'NRM-Purpose': 'care'}});
		if (!b)
			return;
		list.append(h('ol', {class: 'nrm-notes'}, b.items.map((f) =>
			h('li', {class: 'nrm-note', dataset: {followup: f.id}},
			  h('p', {class: 'nrm-note__meta'}, dateTime(f.at)),
			  h('p', {class: 'utrecht-paragraph nrm-note__text'},
			    f.text === null ? t('followup.unreadable')
			                    : free(f.text))))));
	}
	if (c.followups > 0)
		show();
	else
		list.append(para(t('followup.none')));
	return h('section', {class: 'nrm-section', id: 'followups',
	                     'aria-labelledby': 'followups-title'},
		heading(2, t('followup.title'), {id: 'followups-title'}), list);
}

/*
 * The notes section.  free(s) shows the server's free text (bidi
 * isolated, case.js); canWrite: the caller holds the case or is the
 * national desk.
 */
export function notesSection(ctx, id, canWrite, free) {
	const {t} = ctx;
	const list = h('div', {id: 'notes-list', 'aria-live': 'polite'});
	let corrects = null;
	const target = h('p', {class: 'utrecht-paragraph', id: 'note-corrects',
	                       hidden: true});
	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        id: 'note-form', 'aria-labelledby': 'note-new'},
		heading(3, t('note.new'), {id: 'note-new'}),
		para(t('note.help')),
		formAlert(), target,
		field('text', t('note.text'), {multiline: true, rows: 4,
			attrs: {maxlength: '8000'}}),
		h('div', {class: 'nrm-actions'},
		  button(t('note.submit'), {type: 'submit'})));

	function correct(n) {
		corrects = n.id;
		clear(target).append(t('note.correcting', {at: dateTime(n.at)}),
			' ', button(t('note.correct.cancel'), {type: 'button',
				onclick: () => {
					corrects = null;
					target.hidden = true;
				}}));
		target.hidden = false;
		form.querySelector('#f-text').focus();
	}

	async function show() {
		const b = await getInto(ctx, list, caseUrl(id, 'notes'),
		                        {headers: {'NRM-Purpose': 'care'}});
		if (!b)
			return;
		if (!b.items.length) {
			list.append(para(t('note.none')));
			return;
		}
		list.append(h('ol', {class: 'nrm-notes'}, b.items.map((n) =>
			h('li', {class: 'nrm-note' + (n.corrected_by ?
			          ' nrm-note--corrected' : ''),
			         dataset: {note: n.id}},
			  h('p', {class: 'nrm-note__meta'}, dateTime(n.at), ' · ',
			    t('note.by.' + n.author_role), ' ', shortId(n.by),
			    n.corrects ? [' · ', t('note.is_correction')] : null,
			    n.corrected_by ? [' · ', h('strong', null,
			                               t('note.corrected'))] : null),
			  h('p', {class: 'utrecht-paragraph nrm-note__text'},
			    n.text === null ? t('note.unreadable') : free(n.text)),
			  canWrite && !n.corrected_by ? button(t('note.correct'), {
				  type: 'button', onclick: () => correct(n)},
			  'subtle-button') : null))));
	}

	postForm(ctx, form, caseUrl(id, 'notes'), 201, () => {
		const body = {text: form.querySelector('#f-text').value};
		if (corrects)
			body.corrects = corrects;
		return body;
	}, async () => {
		form.reset();
		corrects = null;
		target.hidden = true;
		announce(t('note.saved'));
		await show();
	});
	show();
	return h('section', {class: 'nrm-section', id: 'notes',
	                     'aria-labelledby': 'notes-title'},
		heading(2, t('note.title'), {id: 'notes-title'}),
		list, canWrite ? form : para(t('note.readonly')));
}

/* One item's status change (the holder): status, date, reason. */
function changeForm(ctx, id, item, n, reload) {
	const {t} = ctx;
	const next = (NEXT[item.status] || []).filter((s) => !item.referral ||
		item.status !== 'requested' || s === 'ended');
	if (!next.length)
		return null;
	const sid = 'f-status-' + n;
	const form = h('form', {class: 'nrm-form nrm-inline-form', novalidate: true,
	                        'aria-label': t('support.change.label', {
	                        service: code('service', item.service)})},
		formAlert(),
		select('status', t('support.status'), next.map((s) =>
			[s, code('sstatus', s)]), {id: sid, empty: t('case.choose')}),
		field('on', t('support.on'), {type: 'date', id: 'f-on-' + n}),
		select('reason', t('support.reason'), REFUSALS.concat(ENDS
			.filter((e) => !REFUSALS.includes(e))).map((r) =>
			[r, code('sreason', r)]),
		{id: 'f-sreason-' + n, empty: t('support.reason.none')}),
		h('div', {class: 'nrm-actions'},
		  button(t('support.change'), {type: 'submit'}, 'secondary-action')));
	postForm(ctx, form, caseUrl(id, 'support'), 200, () => {
		const body = {item: item.id,
		              status: form.querySelector('#' + sid).value};
		const on = form.querySelector('#f-on-' + n).value;
		const reason = form.querySelector('#f-sreason-' + n).value;
		if (on)
			body.on = on;
		if (reason)
			body.reason = reason;
		return body;
	}, async () => {
		announce(t('support.changed'));
		await reload();
	});
	return form;
}

/*
 * The head line of a support item or a referral (the same row seen by
 * the provider): service, status badge, reason.
 */
export function supportHead(s) {
	return h('p', {class: 'nrm-support__head'},
		h('strong', null, code('service', s.service)), ' · ',
		h('span', {class: 'nrm-badge nrm-badge--' + s.status},
		  code('sstatus', s.status)),
		s.reason ? ' (' + code('sreason', s.reason) + ')' : '');
}

/* The support plan section; canWrite: the caller holds the taken case. */
export function supportSection(ctx, id, canWrite) {
	const {t} = ctx;
	const list = h('div', {id: 'support-list', 'aria-live': 'polite'});
	const box = h('div');
	let providers = [];

	function item(s, n) {
		return h('li', {class: 'nrm-support', dataset: {item: s.id,
		                                                status: s.status}},
			supportHead(s),
			h('p', {class: 'utrecht-paragraph'},
			  s.provider_name ? s.provider_name : t('support.no_provider'),
			  s.referral ? [' · ', t('support.referral')] : null),
			h('p', {class: 'utrecht-paragraph nrm-support__dates'},
			  t('support.requested_on', {d: date(s.requested_on)}),
			  s.started_on ? ' · ' + t('support.started_on',
			                           {d: date(s.started_on)}) : '',
			  s.ended_on ? ' · ' + t('support.ended_on',
			                         {d: date(s.ended_on)}) : ''),
			canWrite ? changeForm(ctx, id, s, n, show) : null);
	}

	async function show() {
		const b = await getInto(ctx, list, caseUrl(id, 'support'));
		if (!b)
			return;
		providers = b.providers || [];
		list.append(b.items.length ?
			h('ul', {class: 'nrm-supports'}, b.items.map(item)) :
			para(t('support.none')));
		if (canWrite)
			clear(box).append(addForm());
	}

	function addForm() {
		const form = h('form', {class: 'nrm-form', novalidate: true,
		                        id: 'support-form',
		                        'aria-labelledby': 'support-new'},
			heading(3, t('support.new'), {id: 'support-new'}),
			para(t('support.help')),
			formAlert(),
			select('service', t('support.service'), SERVICES.map((s) =>
				[s, code('service', s)]), {empty: t('case.choose')}),
			select('provider_agency', t('support.provider'), providers.map((p) =>
				[p.agency_id, p.name]), {empty: t('support.no_provider'),
				description: t('support.provider.help')}),
			h('div', {class: 'nrm-actions'},
			  button(t('support.submit'), {type: 'submit'})));
		postForm(ctx, form, caseUrl(id, 'support'), 201, () => {
			const body = {service: form.querySelector('#f-service').value};
			const p = form.querySelector('#f-provider_agency').value;
			if (p)
				body.provider_agency = p;
			return body;
		}, async () => {
			announce(t('support.saved'));
			await show();
		});
		return form;
	}

	show();
	return h('section', {class: 'nrm-section', id: 'support',
	                     'aria-labelledby': 'support-title'},
		heading(2, t('support.title'), {id: 'support-title'}),
		list, canWrite ? box : para(t('support.readonly')));
}
