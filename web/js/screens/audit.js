/*
 * screens/audit.js - the auditor's screen: the state of the hash chain
 * (GET /v1/audit/verify) and of the signed checkpoints (GET /v1/audit/
 * checkpoints); the search of the audit log with the filters of GET
 * /v1/audit (newest first, "older" pages by next_after); the review queue
 * of flagged events, emergency reads (GET /v1/audit/reviews), with the
 * verdicts justified / unjustified (POST /v1/audit/reviews/{id}, once per
 * event).  Events hold ids and codes only; all is shown as text.
 */
import {h, heading, para, alert, field, select, button, clear, append,
        announce} from '../dom.js';
import {dateTime, code, showProblem, clearProblems,
        amsterdamToRfc3339} from '../i18n.js';
import {table, facts, loadPage, failure, shortId, badge, formAlert,
        busy} from './parts.js';

const FILTERS = ['object_id', 'object_type', 'action', 'purpose', 'outcome',
                 'principal', 'person', 'agency', 'from', 'to'];
const PURPOSES = ['care', 'intake', 'identification', 'investigation',
                  'audit', 'monitoring', 'emergency', 'nrmctl',
                  'data_protection'];

function outcomeBadge(t, o) {
	return badge(o === 'allowed' ? 'mine' : o === 'denied' ? 'overdue'
	             : 'high', code('audit.outcome', o));
}

/* Who acted: the person when there is one, else the API key. */
function who(t, e) {
	const out = [code('role', e.role)];
	if (e.person_id)
		out.push(h('br'), t('audit.person'), ' ', shortId(e.person_id));
	else if (e.api_key_id)
		out.push(h('br'), t('audit.key'), ' ', shortId(e.api_key_id));
	return out;
}

const object = (e) => [e.object_type || '—', ' ',
                       e.object_id ? shortId(e.object_id) : ''];

async function chainSection(ctx) {
	const {t, api} = ctx;
	const sec = h('section', {class: 'nrm-section', 'aria-labelledby': 'chain-h'},
	              heading(2, t('audit.chain'), {id: 'chain-h'}));
	const [v, c] = await Promise.all([api.get('/v1/audit/verify'),
	                                  api.get('/v1/audit/checkpoints')]);
	if (!ctx.alive())
		return sec;
	if (v.status === 200 && v.body) {
		const b = v.body;
		sec.append(b.intact ? alert('ok', t('audit.chain.intact'))
		           : alert('error', t('audit.chain.broken', {
				pos: b.first_broken ? b.first_broken.pos ?? '?' : '?'})),
		           facts([
			[t('audit.chain.events'), String(b.events ?? '—')],
			[t('audit.chain.head'), String(b.head_pos ?? '—')],
			[t('audit.chain.hash'), b.head_hash ? h('code',
			  {class: 'utrecht-code nrm-mono'}, b.head_hash) : '—'],
			[t('audit.chain.unsealed'), String(b.unsealed ?? '—')]
		]));
	} else {
		sec.append(failure(t, v));
	}
	if (c.status === 200 && c.body) {
		const cps = c.body.checkpoints || [];
		const last = cps.length ? cps[cps.length - 1] : null;
		sec.append(heading(3, t('audit.cp')), c.body.enabled ?
			facts([
				[t('audit.cp.count'), String(cps.length)],
				[t('audit.cp.last'), last ? t('audit.cp.last_at', {
					pos: last.pos, at: dateTime(last.at)}) : '—'],
				[t('audit.cp.key'), c.body.public_key ? h('code',
				  {class: 'utrecht-code nrm-mono'}, c.body.public_key) : '—']
			]) : alert('warning', t('audit.cp.disabled')));
	} else {
		sec.append(failure(t, c));
	}
	return sec;
}

function searchSection(ctx) {
	const {t, api} = ctx;
	const results = h('div', {'aria-live': 'polite'});
	const state = {items: [], next: null, query: null};
	const more = button(t('audit.older'), {hidden: true,
		onclick: () => run(false)});
	const form = h('form', {class: 'nrm-form nrm-form--wide', novalidate: true,
	                        role: 'search', 'aria-label': t('audit.search')},
		formAlert(),
		h('div', {class: 'nrm-columns'},
		  field('object_id', t('audit.f.object_id'), {
			value: ctx.params.object_id, attrs: {spellcheck: 'false'}}),
		  field('object_type', t('audit.f.object_type'), {
			value: ctx.params.object_type, description:
			t('audit.f.object_type.help')}),
		  field('action', t('audit.f.action'), {value: ctx.params.action,
			description: t('audit.f.action.help')}),
		  select('purpose', t('audit.f.purpose'), PURPOSES.map((p) =>
			[p, code('audit.purpose', p)]), {empty: t('audit.f.any'),
			value: ctx.params.purpose || ''}),
		  select('outcome', t('audit.f.outcome'), ['allowed', 'denied',
			'failed'].map((o) => [o, code('audit.outcome', o)]),
			{empty: t('audit.f.any'), value: ctx.params.outcome || ''}),
		  field('principal', t('audit.f.principal'), {
			description: t('audit.f.uuid'), attrs: {spellcheck: 'false'}}),
		  field('person', t('audit.f.person'), {
			description: t('audit.f.uuid'), attrs: {spellcheck: 'false'}}),
		  field('agency', t('audit.f.agency'), {
			description: t('audit.f.uuid'), attrs: {spellcheck: 'false'}}),
		  field('from', t('audit.f.from'), {type: 'datetime-local'}),
		  field('to', t('audit.f.to'), {type: 'datetime-local'})),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('audit.f.submit'), {type: 'submit'}, 'primary-action')));

	function draw() {
		clear(results).append(
			para(t('audit.count', {n: state.items.length}),
			     {class: 'utrecht-paragraph nrm-muted'}),
			table([
				{label: t('audit.col.at'), cell: (e) => dateTime(e.at)},
				{label: t('audit.col.action'), cell: (e) =>
					h('code', {class: 'utrecht-code'}, e.action)},
				{label: t('audit.col.object'), cell: object},
				{label: t('audit.col.purpose'), cell: (e) =>
					code('audit.purpose', e.purpose)},
				{label: t('audit.col.outcome'), cell: (e) =>
					[outcomeBadge(t, e.outcome), e.reason ? h('code',
					 {class: 'utrecht-code'}, e.reason) : null]},
				{label: t('audit.col.who'), cell: (e) => who(t, e)},
				{label: t('audit.col.request'), cell: (e) =>
					e.request_id ? h('code', {class: 'utrecht-code nrm-mono'},
					                 e.request_id) : '—'}
			], state.items, {caption: t('audit.results'),
			                 empty: t('audit.none')}));
		more.hidden = !state.next;
	}

	async function run(fresh) {
		if (fresh) {
			const q = new URLSearchParams({limit: '50'});
			for (const f of FILTERS) {
				let v = form.querySelector('#f-' + f).value.trim();
				if (!v)
					continue;
				if (f === 'from' || f === 'to')
					v = amsterdamToRfc3339(v);
				q.set(f, v);
			}
			state.query = q;
			state.items = [];
		} else if (state.next) {
			state.query.set('cursor', String(state.next));
		}
		clearProblems(form);
		const btn = form.querySelector('button[type="submit"]');
		const r = await busy(btn, () => api.get('/v1/audit?' + state.query));
		if (!ctx.alive())
			return;
		if (r.status !== 200 || !r.body) {
			showProblem(form, r.status === 0 ?
				{type: 'urn:nrm:problem:network'} : r.body, r.status);
			return;
		}
		state.items = state.items.concat(r.body.items || []);
		state.next = r.body.next_after;
		draw();
		announce(t('audit.count', {n: state.items.length}));
	}

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		run(true);
	});
	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'search-h'},
		heading(2, t('audit.search'), {id: 'search-h'}),
		para(t('audit.search.intro')), form, results,
		h('div', {class: 'nrm-actions'}, more));
	return {sec, run};
}

function reviewSection(ctx) {
	const {t, api} = ctx;
	const list = h('div', {'aria-live': 'polite'});
	const state = {filter: 'pending', items: [], next: null};
	const more = button(t('audit.rv.more'), {hidden: true,
		onclick: () => load(false)});
	const filter = select('review_state', t('audit.rv.state'), [
		['pending', t('audit.rv.pending')],
		['reviewed', t('audit.rv.reviewed')],
		['all', t('audit.rv.all')]], {value: state.filter});
	filter.querySelector('select').addEventListener('change', (e) => {
		state.filter = e.target.value;
		load(true);
	});

	async function judge(item, verdict, cell) {
		const r = await api.post('/v1/audit/reviews/' + item.id, {verdict});
		if (!ctx.alive())
			return;
		if (r.status === 200 && r.body) {
			Object.assign(item, r.body);
			append(clear(cell), verdictCell(item));
			announce(t('audit.rv.judged', {verdict:
				code('audit.verdict', verdict)}));
			return;
		}
		cell.append(failure(t, r));
	}

	function verdictCell(item) {
		if (item.verdict)
			return [badge(item.verdict === 'justified' ? 'mine' : 'overdue',
			              code('audit.verdict', item.verdict)),
			        h('br'), dateTime(item.reviewed_at)];
		const cell = h('div', {class: 'nrm-actions'});
		const label = (v) => t('audit.rv.judge_as', {
			verdict: code('audit.verdict', v), id: item.id});
		cell.append(
			button(code('audit.verdict', 'justified'), {
				'aria-label': label('justified'),
				onclick: () => judge(item, 'justified', cell)}),
			button(code('audit.verdict', 'unjustified'), {
				'aria-label': label('unjustified'),
				onclick: () => judge(item, 'unjustified', cell)}));
		return cell;
	}

	function draw() {
		clear(list).append(table([
			{label: t('audit.col.at'), cell: (e) => dateTime(e.at)},
			{label: t('audit.col.action'), cell: (e) =>
				h('code', {class: 'utrecht-code'}, e.action)},
			{label: t('audit.col.object'), cell: object},
			{label: t('audit.rv.reason'), cell: (e) =>
				e.reason ? h('code', {class: 'utrecht-code'}, e.reason)
				         : '—'},
			{label: t('audit.col.who'), cell: (e) => who(t, e)},
			{label: t('audit.rv.verdict'), cell: (e) =>
				h('div', {class: 'nrm-verdict'}, verdictCell(e))}
		], state.items, {caption: t('audit.rv.caption'),
		                 empty: t('audit.rv.none'),
		                 rowAttrs: (e) => ({dataset: {event: e.id}})}));
		more.hidden = !state.next;
	}

	const load = (fresh) => loadPage(ctx, {path: '/v1/audit/reviews',
		q: new URLSearchParams({state: state.filter, limit: '50'}),
		cursor: 'cursor', next: 'next_after', state, fresh, list, draw});

	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'reviews-h'},
		heading(2, t('audit.rv.title'), {id: 'reviews-h'}),
		para(t('audit.rv.intro')),
		h('div', {class: 'nrm-inline-form nrm-toolbar'}, filter,
		  button(t('common.refresh'), {onclick: () => load(true)})),
		list, h('div', {class: 'nrm-actions'}, more));
	return {sec, load};
}

export async function render(root, ctx) {
	const {t} = ctx;
	const search = searchSection(ctx);
	const reviews = reviewSection(ctx);
	root.append(heading(1, t('audit.title')), para(t('audit.intro')));
	const chain = await chainSection(ctx);
	if (!ctx.alive())
		return;
	root.append(chain, reviews.sec, search.sec);
	await reviews.load(true);
	if (FILTERS.some((f) => ctx.params[f]))
		await search.run(true);
}
