/*
 * screens/queue.js - the assessor's queue (GET /v1/identifications): the
 * cases awaiting an identification decision, oldest first, with the
 * jurisdiction profile's clocks as the server computed them (initial due
 * date, overdue, earliest conclusive date), paged with next_cursor.  "Record
 * a decision" opens the case's identification history (GET /v1/cases/{id}/
 * identification: an audited read, purpose identification) and the form
 * that posts one entry (POST /v1/cases/{id}/identification); the profile's
 * rules are the server's (a 422 names the rule and the earliest date).
 */
import {h, heading, para, alert, field, select, button, clear, link,
        announce} from '../dom.js';
import {dateTime, date, code, showProblem, clearProblems,
        amsterdamToday} from '../i18n.js';
import {table, facts, failure, shortId, badge, formAlert,
        busy} from './parts.js';

const STAGES = ['initial', 'conclusive', 'reconsideration'];
const OUTCOMES = ['positive', 'negative', 'pending'];
const BODIES = ['assessment_body', 'care_coordination', 'court', 'other'];
const DATES = ['reflection_start', 'reflection_end', 'recovery_start',
               'recovery_end'];

function clocks(t, it) {
	const due = [date(it.initial_due_on)];
	if (it.initial_overdue)
		due.push(' ', badge('overdue', t('queue.overdue')));
	return due;
}

/* The history of a case's identification entries, newest first. */
function history(t, body) {
	const rules = body.rules || {};
	return [
		facts([
			[t('queue.rules.profile'), rules.profile],
			[t('queue.col.due'), date(rules.initial_due_on)],
			[t('queue.col.earliest'), date(rules.conclusive_earliest_on)],
			[t('queue.rules.reflection'), rules.reflection_days === null ||
			 rules.reflection_days === undefined ? '—'
			 : t('queue.days', {n: rules.reflection_days})],
			[t('queue.rules.recovery'), rules.recovery_min_days === null ||
			 rules.recovery_min_days === undefined ? '—'
			 : t('queue.days', {n: rules.recovery_min_days})]
		]),
		table([
			{label: t('queue.f.decided_on'), cell: (e) => date(e.decided_on)},
			{label: t('queue.f.stage'), cell: (e) => code('queue.stage',
			                                               e.stage)},
			{label: t('queue.f.outcome'), cell: (e) =>
				code('queue.outcome', e.outcome)},
			{label: t('queue.f.deciding_body'), cell: (e) =>
				code('queue.body', e.deciding_body)},
			{label: t('queue.f.rationale'), cell: (e) =>
				h('span', {class: 'nrm-freetext'}, e.rationale ?? '—')},
			{label: t('queue.recorded_at'), cell: (e) =>
				dateTime(e.recorded_at)}
		], body.items || [], {caption: t('queue.history'),
		                      empty: t('queue.history.empty')})
	];
}

function decisionForm(ctx, item, onDone) {
	const {t, api} = ctx;
	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'decide-h'},
		formAlert(),
		select('stage', t('queue.f.stage'), STAGES.map((s) =>
			[s, t('queue.stage.' + s)]), {required: true,
			value: item.awaiting === 'conclusive' ? 'conclusive'
			       : 'initial'}),
		select('outcome', t('queue.f.outcome'), OUTCOMES.map((s) =>
			[s, t('queue.outcome.' + s)]), {required: true,
			value: 'positive', description: t('queue.f.outcome.help')}),
		select('deciding_body', t('queue.f.deciding_body'), BODIES.map((s) =>
			[s, t('queue.body.' + s)]), {required: true,
			value: 'assessment_body'}),
		field('decided_on', t('queue.f.decided_on'), {type: 'date',
			required: true, value: amsterdamToday()}),
		field('rationale', t('queue.f.rationale'), {multiline: true,
			rows: 4, description: t('queue.f.rationale.help'),
			attrs: {maxlength: 4000}}),
		h('fieldset', {class: 'utrecht-form-fieldset nrm-fieldset'},
		  h('legend', {class: 'utrecht-form-fieldset__legend'},
		    t('queue.f.periods')),
		  h('div', {class: 'nrm-columns'}, DATES.map((d) =>
			field(d, t('queue.f.' + d), {type: 'date'})))),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('queue.f.submit'), {type: 'submit'}, 'primary-action'),
		  button(t('common.cancel'), {onclick: () => onDone(null)})));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const v = (n) => form.querySelector('#f-' + n).value.trim();
		const entry = {stage: v('stage'), outcome: v('outcome'),
		               deciding_body: v('deciding_body'),
		               decided_on: v('decided_on') || null,
		               rationale: v('rationale') || null};
		for (const d of DATES)
			if (v(d))
				entry[d] = v(d);
		const btn = form.querySelector('button[type="submit"]');
		const r = await busy(btn, () => api.post('/v1/cases/'
			+ encodeURIComponent(item.case_id) + '/identification', entry));
		if (!ctx.alive())
			return;
		if (r.status === 201) {
			onDone(r.body);
			return;
		}
		const p = r.status === 0 ? {type: 'urn:nrm:problem:network'} : r.body;
		showProblem(form, p, r.status);
		/* a profile rule: say which, and from when it is possible */
		if (p && p.rule) {
			const box = form.querySelector('.nrm-form-alert');
			box.append(h('br'), t('queue.rule.' + p.rule, {
				earliest: p.earliest ? date(p.earliest) : '—',
				profile: p.profile || ''}));
		}
	});
	return form;
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	const state = {awaiting: ctx.params.awaiting || 'any', items: [],
	               next: null, rules: null, open: null};
	const status = h('div', {'aria-live': 'polite'});
	const list = h('div');
	const panel = h('section', {class: 'nrm-section', hidden: true,
	                            'aria-labelledby': 'decide-h'});
	const more = button(t('queue.more'), {onclick: () => load(false)});
	const filter = select('awaiting', t('queue.filter'), [
		['any', t('queue.awaiting.any')],
		['initial', t('queue.awaiting.initial')],
		['conclusive', t('queue.awaiting.conclusive')]],
	{value: state.awaiting});
	filter.querySelector('select').addEventListener('change', (e) => {
		state.awaiting = e.target.value;
		load(true);
	});

	function draw() {
		clear(list);
		list.append(table([
			{label: t('queue.col.case'), cell: (it) =>
				link('#/case/' + encodeURIComponent(it.case_id) +
				     '?purpose=identification', shortId(it.case_id),
				     {'aria-label': t('queue.open_case',
				                      {id: it.case_id})})},
			{label: t('queue.col.region'), cell: (it) => it.region},
			{label: t('queue.col.priority'), cell: (it) =>
				badge(it.priority, code('queue.prio', it.priority))},
			{label: t('queue.col.received'), cell: (it) =>
				dateTime(it.created_at)},
			{label: t('queue.col.awaiting'), cell: (it) =>
				code('queue.awaiting', it.awaiting)},
			{label: t('queue.col.due'), cell: (it) => clocks(t, it)},
			{label: t('queue.col.initial_on'), cell: (it) =>
				date(it.initial_decided_on)},
			{label: t('queue.col.earliest'), cell: (it) =>
				date(it.conclusive_earliest_on)},
			{label: t('queue.col.action'), cell: (it) =>
				button(t('queue.decide'), {
					'aria-label': t('queue.decide_for',
					                {id: it.case_id.slice(0, 8)}),
					dataset: {case: it.case_id},
					onclick: () => open(it)})}
		], state.items, {caption: t('queue.caption'),
		                 empty: t('queue.empty')}));
		more.hidden = !state.next;
	}

	async function load(fresh) {
		const q = new URLSearchParams({limit: '50'});
		if (state.awaiting !== 'any')
			q.set('awaiting', state.awaiting);
		if (!fresh && state.next)
			q.set('cursor', state.next);
		clear(status).append(para(t('common.loading')));
		const r = await api.get('/v1/identifications?' + q);
		if (!ctx.alive())
			return;
		clear(status);
		if (r.status !== 200 || !r.body) {
			status.append(failure(t, r));
			return;
		}
		state.items = fresh ? r.body.items : state.items.concat(r.body.items);
		state.next = r.body.next_cursor;
		state.rules = r.body.rules;
		draw();
		if (state.rules)
			status.append(para(t('queue.rules', {
				profile: state.rules.profile,
				days: state.rules.initial_target_working_days,
				min: state.rules.min_days_initial_to_conclusive}),
				{class: 'utrecht-paragraph nrm-muted'}));
	}

	async function open(item) {
		state.open = item;
		panel.hidden = false;
		clear(panel).append(
			heading(2, t('queue.decide.title', {id: item.case_id.slice(0, 8)}),
			        {id: 'decide-h', tabindex: '-1'}),
			para(t('queue.decide.read')));
		panel.querySelector('h2').focus();
		const r = await api.get('/v1/cases/' + encodeURIComponent(item.case_id)
			+ '/identification', {headers: {'NRM-Purpose': 'identification'}});
		if (!ctx.alive() || state.open !== item)
			return;
		if (r.status === 200 && r.body)
			panel.append(...history(t, r.body));
		else
			panel.append(failure(t, r));
		panel.append(heading(3, t('queue.decide.form')),
		             decisionForm(ctx, item, (entry) => {
			panel.hidden = true;
			clear(panel);
			state.open = null;
			if (entry) {
				clear(done).append(alert('ok', t('queue.recorded', {
					stage: code('queue.stage', entry.stage),
					id: item.case_id.slice(0, 8)})));
				announce(t('queue.recorded', {
					stage: code('queue.stage', entry.stage),
					id: item.case_id.slice(0, 8)}));
				load(true);
			}
		}));
	}

	const done = h('div');
	root.append(heading(1, t('queue.title')), para(t('queue.intro')), done,
		h('div', {class: 'nrm-inline-form nrm-toolbar'}, filter,
		  button(t('common.refresh'), {onclick: () => load(true)})),
		status, list, h('div', {class: 'nrm-actions'}, more), panel);
	more.hidden = true;
	await load(true);
}
