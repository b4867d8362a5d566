/*
 * screens/case.js - one case (GET /v1/cases/{id}).  The read of personal
 * data is audited with a purpose, so the screen first asks for it; the
 * break-glass read (NRM-Purpose emergency with a reason code) is a
 * separate, clearly marked form and its answer is shown under a banner.
 * Actions (take, decline, transfer, handover, close, reopen, contact,
 * and a pending transfer's accept and refuse by the receiving region:
 * issue 18) send the
 * ETag of the read as If-Match; a 409 or 412 shows the case as it is now
 * and changes nothing (the screen never retries with the newer version).
 * Only the actions that fit are offered: a taken case's by its holder
 * (held_by_me), none of a case a colleague holds; the handover picks a
 * colleague from GET /v1/cases/{id}/colleagues.
 * Also the initial identification record and sharing the case id with an
 * investigating agency picked from GET /v1/cases/{id}/share-targets when
 * the victim consents.  Its notes and support plan (carework.js); its
 * related cases and the merge of a duplicate, and a merged case's link to
 * its target (merge.js).  Every
 * text of the case is shown as text, isolated from the page's direction.
 */
import {h, heading, para, field, select, check, button, alert, clear,
        announce, append} from '../dom.js';
import {code, dateTime, date, showProblem, clearProblems,
        amsterdamToday} from '../i18n.js';
import {regionName, regionOptions} from '../regions.js';
import {marks, deadline, tick, shortId, conflictAlert} from './inbox.js';
import {followupsSection, notesSection, supportSection} from './carework.js';
import {relatedSection, mergeFacts} from './merge.js';
import {getInto, postForm, tableHead} from './parts.js';

const REASONS = {
	decline: ['no_capacity', 'conflict_of_interest', 'outside_expertise',
	          'wrong_region', 'other'],
	transfer: ['victim_relocated', 'wrong_region', 'specialist_care', 'safety',
	           'capacity', 'other'],
	close: ['victim_supported', 'referred_elsewhere',
	        'no_indication_of_trafficking', 'duplicate', 'unreachable', 'other'],
	reopen: ['new_information', 'victim_returned', 'closed_in_error', 'other'],
	refuse: ['no_capacity', 'wrong_region', 'outside_expertise',
	         'conflict_of_interest', 'other']
};
const CONTACT_MODES = ['in_person', 'phone', 'interpreter', 'via_reporter',
                       'failed_attempt'];
/* The route below /v1/cases/{id}/ of an action (its name otherwise). */
const ROUTE = {accept: 'transfer/accept', refuse: 'transfer/refuse'};

/* Now as a datetime-local value (the browser's time zone, minutes). */
function localNow() {
	const d = new Date();
	d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
	return d.toISOString().slice(0, 16);
}
const BREAK_GLASS = ['immediate_danger', 'person_relocated',
                     'region_unreachable', 'continuity_of_care'];

const formAlert = () => h('div', {
	class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
	role: 'alert', tabindex: '-1', hidden: true});

/* Direction controls (LRE..RLO, LRI..PDI): they may reorder what is read. */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

/*
 * Free text of the server: as typed, bidi isolated (an override cannot
 * reach the page around it), and said when it holds direction controls.
 */
function free(s) {
	if (s === null || s === undefined || s === '')
		return h('span', {class: 'nrm-empty'}, '—');
	return [h('bdi', {class: 'nrm-freetext', dir: 'auto'}, s),
	        BIDI.test(s) ? h('span', {class: 'nrm-badge nrm-badge--declined nrm-bidi'},
	                         ' ' + tr('case.bidi')) : null];
}
let tr = (k) => k;

function facts(t, rows) {
	return h('dl', {class: 'nrm-facts'}, rows.filter(Boolean).map(([k, v, attrs]) =>
		[h('dt', null, t(k)), h('dd', attrs || null, v)]));
}

function historyTable(t, history) {
	if (!history.length)
		return para(t('case.history.none'));
	const cols = ['at', 'action', 'by', 'detail'];
	return h('div', {class: 'nrm-table-wrap', tabindex: '0', role: 'region',
	                 'aria-label': t('case.history')},
		h('table', {class: 'utrecht-table nrm-table nrm-table--cards', id: 'case-history'},
		  h('caption', {class: 'utrecht-table__caption nrm-visually-hidden'},
		    t('case.history')),
		  tableHead(cols.map((c) => t('case.history.' + c))),
		  h('tbody', {class: 'utrecht-table__body'}, history.map((e) =>
			h('tr', {class: 'utrecht-table__row'},
			  h('td', {class: 'utrecht-table__cell', 'data-label': t('case.history.at')},
			    dateTime(e.at)),
			  h('td', {class: 'utrecht-table__cell', 'data-label': t('case.history.action')},
			    code('history', e.action)),
			  h('td', {class: 'utrecht-table__cell nrm-mono', 'data-label': t('case.history.by')},
			    e.by ? shortId(e.by) : t('case.history.system')),
			  h('td', {class: 'utrecht-table__cell nrm-wrap', 'data-label': t('case.history.detail')},
			    detailText(e.detail)))))));
}

/*
 * A history entry's detail as "key: value; ..." text: nested objects
 * flattened to dotted keys, empty lists and a nested value equal to its
 * parent's same key (the routing decision repeats region, rule_id,
 * priority and ruleset_version) left out.
 */
function detailText(detail) {
	const out = [];
	const walk = (obj, prefix, parent) => {
		for (const [k, v] of Object.entries(obj || {})) {
			if (Array.isArray(v) && v.length === 0)
				continue;
			if (parent && parent[k] === v)
				continue;
			if (v !== null && typeof v === 'object' && !Array.isArray(v))
				walk(v, prefix + k + '.', obj);
			else
				out.push(prefix + k + ': ' +
				         (Array.isArray(v) ? v.join(', ') : v));
		}
	};
	walk(detail, '', null);
	return out.join('; ');
}

export async function render(root, ctx) {
	const {t, api, params} = ctx;
	tr = t;
	const id = params.id || '';
	const coordinator = ctx.session.person.role === 'coordinator';
	const view = h('div', {id: 'case-view'});
	const purposes = coordinator ? ['care', 'intake', 'identification']
	                             : ['identification', 'care'];
	const ask = h('form', {class: 'nrm-form', id: 'purpose-form', novalidate: true},
		formAlert(),
		select('purpose', t('case.purpose'), purposes.map((p) =>
			[p, t('purpose.' + p)]), {description: t('case.purpose.help')}),
		h('div', {class: 'nrm-actions'},
		  button(t('case.open'), {type: 'submit'}, 'primary-action')));
	const glass = h('form', {class: 'nrm-form nrm-breakglass', id: 'breakglass-form',
	                         novalidate: true, 'aria-labelledby': 'bg-title'},
		heading(2, t('case.bg.title'), {id: 'bg-title'}),
		para(t('case.bg.text')),
		formAlert(),
		select('reason', t('case.bg.reason'), BREAK_GLASS.map((r) =>
			[r, t('bg.' + r)]), {id: 'f-bg-reason', empty: t('case.choose')}),
		check('bg_confirm', t('case.bg.confirm'), {id: 'f-bg-confirm'}),
		h('div', {class: 'nrm-actions'},
		  button(t('case.bg.open'), {type: 'submit'}, 'primary-action')));
	root.append(heading(1, t('case.title', {id: shortId(id)})),
	            h('p', {class: 'utrecht-paragraph'},
	              h('a', {class: 'utrecht-link utrecht-link--html-a',
	                      href: coordinator ? '#/inbox' : '#/queue'},
	                t(coordinator ? 'case.back' : 'case.back.queue'))),
	            ask);
	if (coordinator)
		root.append(glass);
	root.append(view);
	let current = null;	/* {purpose, reason, body, version} */

	async function read(purpose, reason, form) {
		const headers = {'NRM-Purpose': purpose};
		if (reason)
			headers['NRM-Reason'] = reason;
		const r = await api.get('/v1/cases/' + encodeURIComponent(id), {headers});
		if (!ctx.alive() || r.expired)
			return false;
		if (r.status !== 200) {
			showProblem(form, r.status === 404 ?
				{type: 'urn:nrm:problem:not_found'} : r.body, r.status);
			if (r.status === 404 && coordinator && !reason)
				glass.querySelector('#f-bg-reason').focus();
			return false;
		}
		clearProblems(ask);
		clearProblems(glass);
		current = {purpose, reason, body: r.body, version: r.body.version,
		           colleagues: null, targets: null};
		const c = r.body.case;
		if (coordinator && ownRegion(c) && !(r.body.break_glass &&
		                     r.body.break_glass.beyond_scope)) {
			const tr = await api.get('/v1/cases/' + encodeURIComponent(id) +
			                         '/share-targets');
			if (!ctx.alive() || tr.expired)
				return false;
			current.targets = tr.status === 200 ? tr.body.items : null;
		}
		if (coordinator && c.state === 'taken' && c.held_by_me &&
		    !(r.body.break_glass && r.body.break_glass.beyond_scope)) {
			const cr = await api.get('/v1/cases/' + encodeURIComponent(id) +
			                         '/colleagues');
			if (!ctx.alive() || cr.expired)
				return false;
			current.colleagues = cr.status === 200 ? cr.body.items : null;
		}
		draw();
		return true;
	}

	ask.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(ask);
		if (await read(ask.querySelector('#f-purpose').value, null, ask))
			focusView();
	});
	glass.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(glass);
		const reason = glass.querySelector('#f-bg-reason').value;
		if (!reason) {
			showProblem(glass, {type: 'urn:nrm:problem:validation',
			                    field: 'bg-reason'}, 0);
			return;
		}
		if (!glass.querySelector('#f-bg-confirm').checked) {
			showProblem(glass, {type: 'urn:nrm:problem:validation',
			                    field: 'bg-confirm'}, 0);
			return;
		}
		if (await read('emergency', reason, glass))
			focusView();
	});

	/*
	 * Whether the case is of the caller's regions (not so for a case whose
	 * transfer to the caller's region awaits its answer: read to decide,
	 * nothing else to do with it yet).
	 */
	function ownRegion(c) {
		return (ctx.session.person.regions || []).includes(c.region);
	}

	function focusView() {
		const h2 = view.querySelector('h2');
		if (h2) {
			h2.setAttribute('tabindex', '-1');
			h2.focus();
		}
	}

	function draw() {
		const {body} = current;
		const c = body.case;
		const s = body.signal;
		const p = body.subject;
		const bg = body.break_glass;
		const notice = h('div', {id: 'case-alert'});
		clear(view);
		append(view, [
			bg ? h('div', {class: 'nrm-breakglass-banner', role: 'note', id: 'bg-banner'},
			       t('case.bg.banner', {reason: t('bg.' + bg.reason)}) + ' ' +
			       (bg.beyond_scope ? t('case.bg.beyond') : '') + ' ' +
			       t('case.bg.review')) : null,
			heading(2, t('case.summary')),
			h('div', null, marks(c, t)),
			facts(t, [
				['case.f.state', [code('state', c.state),
				 c.closed_reason ? ' (' + code('close', c.closed_reason) + ')' : ''],
				 {id: 'case-state', dataset: {state: c.state}}],
				['case.f.case_reference', c.reference, {id: 'case-reference',
				 class: 'nrm-mono'}],
				['case.f.region', regionName(c.region), {id: 'case-region'}],
				['case.f.holder', c.holder ? [c.holder_agency || '', ' ',
				 h('span', {class: 'nrm-mono'}, shortId(c.holder))] : t('common.none')],
				['case.f.take_by', deadline(c.take_by, c.state === 'open')],
				['case.f.first_contact_by', deadline(c.first_contact_by,
				                                     c.state !== 'closed' &&
				                                     c.state !== 'merged' &&
				                                     !c.first_contact_at)],
				['case.f.first_contact_at', c.first_contact_at ?
				 [dateTime(c.first_contact_at), ' (',
				  t(c.first_contact_in_time ? 'case.contact.in_time'
				                            : 'case.contact.late'), ')'] :
				 t(c.first_contact_escalated ? 'case.contact.escalated'
				                             : 'common.none'),
				 {id: 'case-first-contact'}],
				c.transfer ? ['case.f.transfer', t('case.transfer.pending', {
					region: regionName(c.transfer.to_region),
					reason: code('transfer', c.transfer.reason),
					by: dateTime(c.transfer.answer_by)}),
					{id: 'case-transfer'}] : null,
				...mergeFacts(t, c),
				['case.f.version', String(current.version), {id: 'case-version'}],
				['case.f.rule', c.rule_id, {class: 'nrm-mono'}],
				['case.f.explanation', free(c.explanation)],
				c.escalated_at ? ['case.f.escalated_at', dateTime(c.escalated_at)] : null,
				['case.f.updated_at', dateTime(c.updated_at)]]),
			notice,
			coordinator && !(bg && bg.beyond_scope) ? actions(c, notice) : null,
			heading(2, t('case.subject')),
			facts(t, [
				['case.f.given_name', free(p.given_name), {id: 'subject-given_name'}],
				['case.f.family_name', free(p.family_name), {id: 'subject-family_name'}],
				['case.f.birth_date', p.birth_date ? date(p.birth_date) : t('common.none')],
				['case.f.phone', free(p.phone)],
				['case.f.address', free(p.address)],
				['case.f.narrative', free(p.narrative), {id: 'subject-narrative'}]]),
			heading(2, t('case.signal')),
			facts(t, [
				['case.f.received_at', dateTime(s.received_at)],
				['case.f.observed_at', dateTime(s.observed_at)],
				['case.f.reporter', [free(s.reporter.agency), ' (',
				                     code('kind', s.reporter.kind), ')']],
				['case.f.reference', free(s.reporter_reference)],
				['case.f.municipality', s.municipality_code || t('common.none')],
				['case.f.routed_region', regionName(s.routed_region)],
				['case.f.minor', s.minor ? t('common.yes') : t('common.no')],
				['case.f.age_estimate', s.age_estimate === null ? t('common.none')
				                        : String(s.age_estimate)],
				['case.f.gender', code('gender', s.gender)],
				['case.f.nationality', s.nationality || t('common.none')],
				['case.f.languages', s.languages.join(', ') || t('common.none')],
				['case.f.exploitation', s.exploitation.map((e) =>
					code('exploitation', e)).join(', ')],
				['case.f.control_means', s.control_means.map((e) =>
					code('control', e)).join(', ') || t('common.none')],
				['case.f.danger', s.immediate_danger ? t('common.yes') : t('common.no')],
				['case.f.shelter', s.needs_shelter ? t('common.yes') : t('common.no')],
				['case.f.consent', code('consent', s.consent)]]),
			/* notes and plan: the case's own region only (a receiving
			 * region reads a pending transfer, not its care work) */
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) ?
				followupsSection(ctx, c, free) : null,
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) ?
				notesSection(ctx, id, c.state !== 'merged' &&
				(c.held_by_me || (ctx.session.person.regions || [])
					.includes('NATIONAL')), free) : null,
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) ?
				supportSection(ctx, id,
				c.state === 'taken' && c.held_by_me) : null,
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) ?
				relatedSection(ctx, c, act) : null,
			heading(2, t('case.history')),
			historyTable(t, body.history),
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) ?
				identification(c) : null,
			coordinator && ownRegion(c) && !(bg && bg.beyond_scope) &&
			c.state !== 'merged' ? share(c) : null]);
		/* read in scope: the emergency form is no longer needed */
		glass.hidden = !bg;
	}

	/* An action form: reason (and more), If-Match, conflict handling. */
	function actionForm(name, kids, bodyOf, label) {
		const form = h('form', {class: 'nrm-form nrm-action', novalidate: true,
		                        dataset: {action: name}, 'aria-labelledby': 'a-' + name},
			heading(3, t('case.action.' + name), {id: 'a-' + name}),
			formAlert(), kids,
			h('div', {class: 'nrm-actions'},
			  button(label || t('case.' + name), {type: 'submit'},
			         name === 'take' ? 'primary-action' : 'secondary-action')));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clearProblems(form);
			await act(name, bodyOf(form), form);
		});
		return form;
	}

	const reasonSelect = (name) => select('reason', t('case.reason'),
		REASONS[name].map((r) => [r, t(name + '.' + r)]),
		{id: 'f-' + name + '-reason', empty: t('case.choose')});

	function actions(c) {
		const box = h('section', {class: 'nrm-section', 'aria-labelledby': 'actions-title'},
			heading(2, t('case.actions'), {id: 'actions-title'}));
		const reasonOf = (name) => (form) => ({reason:
			form.querySelector('#f-' + name + '-reason').value});
		const cols = h('div', {class: 'nrm-columns'});
		if (c.state === 'transfer_pending') {
			const mine = ctx.session.person.regions || [];
			if (mine.includes(c.transfer.to_region)) {
				/* the receiving region answers */
				cols.append(actionForm('accept', para(t('case.accept.help')),
				                       () => ({})));
				cols.append(actionForm('refuse', reasonSelect('refuse'),
				                       reasonOf('refuse')));
			} else if (c.held_by_me) {
				cols.append(contactForm());
			}
			box.append(para(t('case.transfer.waiting'), {id: 'case-transfer-waiting'}),
			           cols);
			return box;
		}
		if (c.state === 'taken' && !c.held_by_me) {
			box.append(para(t('case.held.other'), {id: 'case-held-other'}));
			return box;
		}
		if (c.state === 'merged') {
			/* terminal: its care goes on in the case it was merged into */
			box.append(para(t('case.merged.final'), {id: 'case-merged-final'}));
			return box;
		}
		if (c.state === 'open')
			cols.append(actionForm('take', para(t('case.take.help')), () => ({})));
		if (c.state !== 'closed') {
			cols.append(actionForm('decline', reasonSelect('decline'), reasonOf('decline')));
			cols.append(actionForm('transfer', [
				select('target_region', t('case.target_region'),
				       regionOptions().filter(([r]) => r !== c.region),
				       {id: 'f-target_region', empty: t('case.choose')}),
				reasonSelect('transfer')], (form) => ({
				target_region: form.querySelector('#f-target_region').value,
				reason: form.querySelector('#f-transfer-reason').value})));
		}
		if (c.state === 'taken') {
			cols.append(contactForm());
			cols.append(handoverForm());
			cols.append(actionForm('close', reasonSelect('close'), reasonOf('close')));
		}
		if (c.state === 'closed')
			cols.append(actionForm('reopen', reasonSelect('reopen'), reasonOf('reopen')));
		box.append(cols);
		return box;
	}

	/* A contact with the person: when (not in the future) and how. */
	function contactForm() {
		return actionForm('contact', [
			field('at', t('case.contact.at'), {id: 'f-contact-at',
				type: 'datetime-local', attrs: {value: localNow(),
				                                max: localNow(),
				                                'data-initial': localNow()}}),
			select('mode', t('case.contact.mode'), CONTACT_MODES.map((m) =>
				[m, t('mode.' + m)]), {id: 'f-contact-mode',
				empty: t('case.choose')})],
		(form) => {
			const input = form.querySelector('#f-contact-at');
			const at = input.value;
			/* Left at its default (this minute), it means now: the
			 * instant itself, since the field's minute may begin
			 * before the signal arrived (a contact right after it). */
			return {at: !at ? '' : at === input.dataset.initial
				? new Date().toISOString() : new Date(at).toISOString(),
			        mode: form.querySelector('#f-contact-mode').value};
		});
	}

	/* The handover: a colleague of the region to pick, if any. */
	function handoverForm() {
		const people = current.colleagues;
		if (!people || !people.length)
			return h('section', {class: 'nrm-action', dataset: {action: 'handover'},
			                     'aria-labelledby': 'a-handover'},
				heading(3, t('case.action.handover'), {id: 'a-handover'}),
				para(t(people ? 'case.handover.none' : 'case.handover.unknown')));
		return actionForm('handover', select('person', t('case.handover.person'),
			people.map((p) => [p.person_id, p.display_name]),
			{empty: t('case.choose'), description: t('case.handover.help')}),
		(form) => ({person: form.querySelector('#f-person').value}));
	}

	/* An action's call; answers its status (0: the session expired). */
	async function act(name, body, form) {
		const r = await api.post('/v1/cases/' + encodeURIComponent(id) + '/' +
		                         (ROUTE[name] || name),
			body, {headers: {'If-Match': '"' + current.version + '"'}});
		if (!ctx.alive() || r.expired)
			return 0;
		const notice = view.querySelector('#case-alert');
		clear(notice);
		if (r.status === 409 || r.status === 412) {
			notice.append(conflictAlert(t, r.body, r.status),
			              button(t('case.reload'), {onclick: () =>
				              read(current.purpose, current.reason, ask)}));
			notice.querySelector('.nrm-alert').setAttribute('tabindex', '-1');
			notice.querySelector('.nrm-alert').focus();
			return r.status;
		}
		if (r.status !== 200) {
			showProblem(form, r.body, r.status);
			return r.status;
		}
		const done = t('case.done.' + name, {id: shortId(id),
			region: regionName(r.body.region)});
		announce(done);
		if ((name === 'transfer' || name === 'refuse') &&
		    !(ctx.session.person.regions || []).includes(r.body.region)) {
			/* the case left the caller's regions: it can no longer be read */
			clear(view).append(alert('ok', done),
				h('p', {class: 'utrecht-paragraph'},
				  h('a', {class: 'utrecht-link utrecht-link--html-a',
				          href: '#/inbox'}, t('case.back'))));
			return r.status;
		}
		if (await read(current.purpose, current.reason, ask)) {
			const n = view.querySelector('#case-alert');
			n.append(alert('ok', done));
		}
		return r.status;
	}

	function identification(c) {
		const list = h('div', {id: 'ident-list'});
		const form = h('form', {class: 'nrm-form', novalidate: true, id: 'ident-form',
		                        'aria-labelledby': 'ident-new'},
			heading(3, t('ident.new'), {id: 'ident-new'}),
			para(t('ident.new.help')),
			formAlert(),
			select('outcome', t('ident.outcome'), ['positive', 'negative', 'pending']
				.map((o) => [o, t('outcome.' + o)]), {empty: t('case.choose')}),
			select('deciding_body', t('ident.deciding_body'),
			       ['care_coordination', 'assessment_body', 'court', 'other']
				.map((o) => [o, t('body.' + o)]), {value: 'care_coordination'}),
			field('decided_on', t('ident.decided_on'), {type: 'date',
				value: amsterdamToday()}),
			field('reflection_start', t('ident.reflection_start'), {type: 'date'}),
			field('reflection_end', t('ident.reflection_end'), {type: 'date'}),
			field('rationale', t('ident.rationale'), {multiline: true, rows: 3,
				attrs: {maxlength: '4000'}}),
			h('div', {class: 'nrm-actions'},
			  button(t('ident.submit'), {type: 'submit'})));
		postForm(ctx, form, '/v1/cases/' + encodeURIComponent(id) +
		         '/identification', 201, () => {
			const v = (n) => form.querySelector('#f-' + n).value;
			const b = {stage: 'initial', outcome: v('outcome'),
			           deciding_body: v('deciding_body'), decided_on: v('decided_on'),
			           rationale: v('rationale').trim() ? v('rationale') : null,
			           reflection_start: v('reflection_start') || null,
			           reflection_end: v('reflection_end') || null};
			if (!b.outcome)
				delete b.outcome;
			return b;
		}, async () => {
			form.reset();
			form.querySelector('#f-decided_on').value = amsterdamToday();
			announce(t('ident.saved'));
			await showList();
			list.prepend(alert('ok', t('ident.saved')));
		});
		async function showList() {
			const b = await getInto(ctx, list, '/v1/cases/' +
			                        encodeURIComponent(id) + '/identification',
			                        {headers: {'NRM-Purpose': 'identification'}});
			if (!b)
				return;
			const rules = b.rules || {};
			list.append(facts(t, [
				['ident.profile', rules.profile || t('common.none')],
				['ident.initial_due', rules.initial_due_on ? date(rules.initial_due_on)
				                                           : t('common.none')],
				['ident.conclusive_earliest', rules.conclusive_earliest_on ?
					date(rules.conclusive_earliest_on) : t('common.none')]]));
			if (!b.items.length)
				list.append(para(t('ident.none')));
			for (const e of b.items)
				list.append(facts(t, [
					['ident.stage', t('stage.' + e.stage)],
					['ident.outcome', t('outcome.' + e.outcome)],
					['ident.deciding_body', t('body.' + e.deciding_body)],
					['ident.decided_on', date(e.decided_on)],
					['ident.rationale', free(e.rationale)]]));
		}
		return h('section', {class: 'nrm-section', 'aria-labelledby': 'ident-title'},
			heading(2, t('ident.title'), {id: 'ident-title'}),
			h('div', {class: 'nrm-actions'},
			  button(t('ident.show'), {onclick: showList})),
			list,
			/* a merged case's identification goes on in its target (409) */
			c.state === 'merged' ? para(t('ident.merged'), {id: 'ident-merged'})
			                     : form);
	}

	/* Sharing: an agency of GET .../share-targets (name, kind) to pick. */
	function share() {
		const agencies = current.targets;
		if (!agencies || !agencies.length)
			return h('section', {class: 'nrm-form', id: 'share-form',
			                     'aria-labelledby': 'share-title'},
				heading(2, t('share.title'), {id: 'share-title'}),
				para(t(agencies ? 'share.none' : 'share.unknown')));
		const form = h('form', {class: 'nrm-form', novalidate: true, id: 'share-form',
		                        'aria-labelledby': 'share-title'},
			heading(2, t('share.title'), {id: 'share-title'}),
			para(t('share.text')),
			formAlert(),
			select('agency_id', t('share.agency'), agencies.map((a) =>
				[a.agency_id, a.name + ' (' + t('routing.kind.' + a.kind) + ')']),
			{empty: t('case.choose'), description: t('share.agency.help')}),
			check('consent', t('share.consent'), {id: 'f-share-consent'}),
			h('div', {class: 'nrm-actions'},
			  button(t('share.submit'), {type: 'submit'})));
		postForm(ctx, form, '/v1/cases/' + encodeURIComponent(id) + '/share',
		         200, () => {
			const consent = form.querySelector('#f-share-consent').checked;
			if (!consent) {
				showProblem(form, {type: 'urn:nrm:problem:validation',
				                   field: 'share-consent'}, 0);
				return null;
			}
			return {agency_id: form.querySelector('#f-agency_id').value,
			        consent: true};
		}, (answer) => {
			const msg = answer.new === false ? t('share.again') : t('share.done');
			form.querySelector('.nrm-actions').after(alert('ok', msg));
			announce(msg);
		});
		return form;
	}

	const timer = setInterval(() => tick(view), 1000);
	ctx.onLeave(() => clearInterval(timer));
}
