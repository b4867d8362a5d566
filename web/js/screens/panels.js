/*
 * screens/panels.js - the assessor's identification panels (issue 19):
 * the inbox of pending decisions with their clocks (GET /v1/panels/
 * pending: a person's own panels; overdue and stalled ones escalated to
 * the chair), and one case's panel (GET /v1/cases/{id}/panel): its rules,
 * members and recusals, the votes as far as the server lets the person
 * see them (blind voting: a count until one's own vote), the decision
 * with its dissent; a member's vote (POST .../panel/vote, reason code and
 * an optional rationale, which is personal data) and recusal (POST
 * .../panel/recusal).  Opened with #/panels or #/panels?case=<id>.
 */
import {h, heading, para, alert, field, select, button, clear, link,
        announce} from '../dom.js';
import {dateTime, date, code, showProblem, clearProblems} from '../i18n.js';
import {table, facts, failure, shortId, badge, formAlert,
        busy} from './parts.js';

const REASONS = ['indicators_met', 'credible_account', 'indicators_not_met',
                 'insufficient_information', 'not_credible', 'other'];
const RECUSALS = ['conflict_of_interest', 'prior_involvement', 'other'];
const path = (id, tail) => '/v1/cases/' + encodeURIComponent(id) + '/panel'
	+ (tail || '');

/* The clock of a pending item: due date, days left, the escalation. */
function clock(t, it) {
	const out = [date(it.due_on), ' ',
		h('span', {class: 'nrm-muted'}, it.working_days_left >= 0
			? t('panels.days_left', {n: it.working_days_left})
			: t('panels.days_over', {n: -it.working_days_left}))];
	if (it.overdue)
		out.push(' ', badge('overdue', t('panels.overdue')));
	if (it.escalated_to_chair)
		out.push(' ', badge('escalated', t('panels.escalated')));
	return out;
}

function yourPart(t, you) {
	if (!you)
		return '—';
	const parts = [];
	if (you.chair)
		parts.push(t('panels.you.chair'));
	if (you.member)
		parts.push(t('panels.you.member'));
	if (you.second_reviewer)
		parts.push(t('panels.you.second_reviewer'));
	return [parts.join(', ') || '—', you.to_act
		? [' ', badge('act', t('panels.you.to_act'))] : ''];
}

function members(t, p) {
	return table([
		{label: t('panels.m.name'), cell: (m) => [m.display_name,
			m.chair ? [' ', badge('chair', t('panels.chair'))] : '']},
		{label: t('panels.m.discipline'), cell: (m) =>
			code('panels.discipline', m.discipline)},
		{label: t('panels.m.part'), cell: (m) => m.recused
			? t('panels.m.recused', {reason: code('panels.recusal',
			                                       m.recusal_reason)})
			: m.voted ? t('panels.m.voted') : t('panels.m.pending')}
	], p.members, {caption: t('panels.members')});
}

function votes(t, p) {
	if (!p.votes_visible)
		return para(t('panels.votes.hidden', {n: p.votes_cast}),
		            {class: 'utrecht-paragraph nrm-muted'});
	return table([
		{label: t('panels.v.member'), cell: (v) => [v.display_name,
			v.kind === 'second_review'
				? [' ', badge('chair', t('panels.you.second_reviewer'))]
				: '']},
		{label: t('panels.v.outcome'), cell: (v) => [
			code('panels.outcome', v.outcome),
			v.dissent ? [' ', badge('dissent', t('panels.dissent'))] : '']},
		{label: t('panels.v.reason'), cell: (v) =>
			code('panels.reason', v.reason)},
		{label: t('panels.v.rationale'), cell: (v) =>
			h('span', {class: 'nrm-freetext'}, v.rationale ?? '—')},
		{label: t('panels.v.cast_at'), cell: (v) => dateTime(v.cast_at)}
	], p.votes, {caption: t('panels.votes.caption'),
	             empty: t('panels.votes.none')});
}

function decision(t, p) {
	const d = p.decision;
	if (!d) {
		const s = p.status === 'stalled'
			? t('panels.stalled.' + p.stalled_reason)
			: t('panels.status.' + p.status);
		return alert(p.status === 'stalled' ? 'warning' : 'info', s);
	}
	const byId = Object.fromEntries(p.members.map((m) =>
		[m.person_id, m.display_name]));
	return h('div', null,
		alert('ok', t('panels.decided', {
			outcome: code('panels.outcome', d.outcome),
			stage: code('queue.stage', d.stage),
			on: date(d.decided_on)})),
		facts([
			[t('panels.d.voters'), d.voters.map((id) =>
				byId[id] || String(id).slice(0, 8)).join(', ')],
			[t('panels.d.dissent'), d.dissent.length
				? d.dissent.map((x) => x.display_name + ' ('
					+ code('panels.outcome', x.outcome) + ', '
					+ code('panels.reason', x.reason) + ')').join('; ')
				: t('panels.d.unanimous')]
		]));
}

/* The vote and recusal forms of a member (or the second reviewer). */
function actions(ctx, p, me, reload) {
	const {t, api} = ctx;
	const mine = p.members.find((m) => m.person_id === me);
	const reviewer = p.status === 'second_review' &&
		p.second_reviewer === me;
	const member = p.status === 'open' && mine && !mine.recused &&
		!mine.voted;
	if (!reviewer && !member)
		return null;
	const vote = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'vote-h'},
		heading(3, reviewer ? t('panels.review.title')
		                    : t('panels.vote.title'), {id: 'vote-h'}),
		formAlert(),
		select('outcome', t('panels.f.outcome'), [
			['positive', t('panels.outcome.positive')],
			['negative', t('panels.outcome.negative')]],
		{required: true, value: 'positive'}),
		select('reason', t('panels.f.reason'), REASONS.map((r) =>
			[r, t('panels.reason.' + r)]), {required: true}),
		field('rationale', t('panels.f.rationale'), {multiline: true,
			rows: 4, description: t('panels.f.rationale.help'),
			attrs: {maxlength: 4000}}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('panels.f.vote'), {type: 'submit'}, 'primary-action')));
	vote.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(vote);
		const v = (n) => vote.querySelector('#f-' + n).value.trim();
		const r = await busy(vote.querySelector('button[type="submit"]'),
			() => api.post(path(p.case_id, '/vote'), {
				outcome: v('outcome'), reason: v('reason'),
				rationale: v('rationale') || null}));
		if (!ctx.alive())
			return;
		if (r.status === 201) {
			announce(t('panels.voted'));
			reload(t('panels.voted'));
			return;
		}
		showProblem(vote, r.status === 0
			? {type: 'urn:nrm:problem:network'} : r.body, r.status);
	});
	if (!member)
		return vote;
	const recuse = h('form', {class: 'nrm-form', novalidate: true,
	                          'aria-labelledby': 'recuse-h'},
		heading(3, t('panels.recuse.title'), {id: 'recuse-h'}),
		para(t('panels.recuse.intro')),
		formAlert(),
		select('recusal', t('panels.f.recusal'), RECUSALS.map((r) =>
			[r, t('panels.recusal.' + r)]), {required: true}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('panels.f.recuse'), {type: 'submit'})));
	recuse.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(recuse);
		const r = await busy(recuse.querySelector('button[type="submit"]'),
			() => api.post(path(p.case_id, '/recusal'), {
				reason: recuse.querySelector('#f-recusal').value}));
		if (!ctx.alive())
			return;
		if (r.status === 200) {
			announce(t('panels.recused'));
			reload(t('panels.recused'));
			return;
		}
		showProblem(recuse, r.status === 0
			? {type: 'urn:nrm:problem:network'} : r.body, r.status);
	});
	return h('div', {class: 'nrm-columns'}, vote, recuse);
}

function panelView(ctx, p, reload) {
	const {t} = ctx;
	const me = ctx.session && ctx.session.person
		? ctx.session.person.id : null;
	const chair = p.members.find((m) => m.person_id === p.chair);
	return [
		facts([
			[t('panels.f.case'), link('#/case/' + encodeURIComponent(
				p.case_id) + '?purpose=identification', shortId(p.case_id))],
			[t('panels.f.model'), code('panels.model', p.model)
				+ (p.reconsideration ? ' — ' + t('panels.reconsideration',
				                                  {n: p.round}) : '')],
			[t('panels.f.rule'), code('panels.rule', p.rule)],
			[t('panels.f.quorum'), t('panels.quorum', {
				n: p.quorum.members,
				d: p.quorum.disciplines.length
					? p.quorum.disciplines.map((x) =>
						code('panels.discipline', x)).join(', ')
					: '—'})],
			[t('panels.f.blind'), p.blind ? t('common.yes')
			                              : t('common.no')],
			[t('panels.f.chair'), chair ? chair.display_name
			                            : shortId(p.chair)],
			[t('panels.f.due'), [date(p.due_on),
				p.overdue ? [' ', badge('overdue', t('panels.overdue'))]
				          : '',
				p.escalated_to_chair
					? [' ', badge('escalated', t('panels.escalated'))]
					: '']]
		]),
		decision(t, p),
		members(t, p),
		heading(3, t('panels.votes')),
		votes(t, p),
		actions(ctx, p, me, reload)
	].filter((x) => x !== null);
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	const inbox = h('div', {'aria-live': 'polite'});
	const detail = h('section', {class: 'nrm-section', hidden: true,
	                             'aria-labelledby': 'panel-h'});
	const done = h('div');

	async function loadInbox() {
		clear(inbox).append(para(t('common.loading')));
		const r = await api.get('/v1/panels/pending');
		if (!ctx.alive())
			return;
		clear(inbox);
		if (r.status !== 200 || !r.body) {
			inbox.append(failure(t, r));
			return;
		}
		inbox.append(table([
			{label: t('panels.col.case'), cell: (it) => button(
				shortId(it.case_id), {
					'aria-label': t('panels.open_for',
					                {id: it.case_id.slice(0, 8)}),
					onclick: () => open(it.case_id)})},
			{label: t('panels.col.status'), cell: (it) => [
				code('panels.status', it.status),
				it.round > 1 ? [' ', badge('round', t('panels.reconsideration',
				                                      {n: it.round}))] : '']},
			{label: t('panels.col.due'), cell: (it) => clock(t, it)},
			{label: t('panels.col.votes'), cell: (it) =>
				t('panels.votes_of', {n: it.votes_cast,
				                      left: it.members_pending})},
			{label: t('panels.col.you'), cell: (it) => yourPart(t, it.you)}
		], r.body.items, {caption: t('panels.caption'),
		                  empty: t('panels.empty')}));
	}

	async function open(caseId, message) {
		detail.hidden = false;
		clear(detail).append(heading(2, t('panels.panel_for',
			{id: caseId.slice(0, 8)}), {id: 'panel-h', tabindex: '-1'}));
		if (message)
			detail.append(alert('ok', message));
		const r = await api.get(path(caseId));
		if (!ctx.alive())
			return;
		if (r.status !== 200 || !r.body) {
			detail.append(failure(t, r));
			return;
		}
		if (!r.body.panel) {
			detail.append(para(t('panels.none')));
		} else {
			detail.append(...panelView(ctx, r.body.panel, (msg) => {
				loadInbox();
				open(caseId, msg);
			}));
			if (r.body.earlier.length)
				detail.append(para(t('panels.earlier',
					{n: r.body.earlier.length}),
					{class: 'utrecht-paragraph nrm-muted'}));
		}
		if (!message)
			detail.querySelector('h2').focus();
	}

	root.append(heading(1, t('panels.title')), para(t('panels.intro')), done,
		h('div', {class: 'nrm-inline-form nrm-toolbar'},
		  button(t('common.refresh'), {onclick: () => loadInbox()})),
		inbox, detail);
	await loadInbox();
	if (ctx.params.case)
		await open(ctx.params.case);
}
