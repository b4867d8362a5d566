/*
 * screens/parts.js - pieces shared by the screens: a table that turns
 * into stacked cards on a narrow screen (each cell labelled with its
 * column), a description list, the alert of a failed call, a section's
 * list read with one GET (getInto) or page by page (loadPage), a form
 * that POSTs (postForm), and the
 * routing configuration with its coverage report and the "explain a
 * decision" form (analyst and admin).
 * Text only ever through dom.js (text nodes).
 */
import {h, heading, para, alert, field, select, button, clear,
        announce} from '../dom.js';
import {dateTime, code, problemMessage, showProblem, clearProblems,
        amsterdamNowLocal, amsterdamToRfc3339} from '../i18n.js';

/* The <thead> of a table: one column head a label (text or node). */
export const tableHead = (labels) =>
	h('thead', {class: 'utrecht-table__header'},
	  h('tr', {class: 'utrecht-table__row'}, labels.map((l) =>
		h('th', {class: 'utrecht-table__header-cell', scope: 'col'}, l))));

/*
 * table(columns, rows, opts): columns [{label, cell: (row) -> node or
 * text}], rows an array.  opts.caption (text, for screen readers and
 * sighted people alike), opts.empty (shown instead of an empty table).
 */
export function table(columns, rows, opts = {}) {
	if (!rows.length && opts.empty)
		return para(opts.empty, {class: 'utrecht-paragraph nrm-empty'});
	/* a region of its own: it scrolls sideways when it must, by keyboard too */
	return h('div', {class: 'nrm-table-wrap', tabindex: opts.caption ? '0'
	                 : null, role: opts.caption ? 'region' : null,
	                 'aria-label': opts.caption || null},
		h('table', {class: 'utrecht-table utrecht-table--html-table nrm-table'
		            + ' nrm-table--cards', ...opts.attrs},
		  opts.caption ? h('caption', {class: 'utrecht-table__caption'
		                               + ' nrm-caption'}, opts.caption)
		               : null,
		  tableHead(columns.map((c) => c.label)),
		  h('tbody', {class: 'utrecht-table__body'}, rows.map((r) =>
			h('tr', {class: 'utrecht-table__row', ...(opts.rowAttrs ?
			          opts.rowAttrs(r) : {})}, columns.map((c) =>
				h('td', {class: 'utrecht-table__cell',
				         'data-label': c.label},
				  h('div', {class: 'nrm-cell'}, c.cell(r)))))))));
}

/* A description list of [term, value] pairs (value: node or text). */
export function facts(pairs, attrs) {
	return h('dl', {class: 'nrm-facts', ...attrs}, pairs.map(([k, v]) =>
		[h('dt', null, k), h('dd', null, v)]));
}

/* The alert of a call that failed (answer r of api.js). */
export function failure(t, r) {
	if (r.status === 0)
		return alert('error', t('err.network'));
	return alert('error', problemMessage(r.body, r.status));
}

/*
 * GET url (opts as api.get's) for the element `list` of a section: null
 * once the screen is left or the session expired; otherwise list is
 * emptied and the answer's body returned when it is a 200, else list
 * shows the answer's problem and null is returned.
 */
export async function getInto(ctx, list, url, opts) {
	const r = await ctx.api.get(url, opts);
	if (!ctx.alive() || r.expired)
		return null;
	clear(list);
	if (r.status !== 200) {
		list.append(alert('error', problemMessage(r.body, r.status)));
		return null;
	}
	return r.body;
}

/*
 * A form that POSTs: on submit its problems are cleared and body(form)
 * builds the request body (null: nothing is sent, body has shown the
 * form's problem); an answer of status `want` goes to done(answer's
 * body), any other one is shown on the form.  Nothing happens once the
 * screen is left or the session expired.
 */
export function postForm(ctx, form, url, want, body, done) {
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const b = body(form);
		if (b === null)
			return;
		const r = await ctx.api.post(url, b);
		if (!ctx.alive() || r.expired)
			return;
		if (r.status !== want) {
			showProblem(form, r.body, r.status);
			return;
		}
		await done(r.body);
	});
}

/*
 * One page of a keyset-paged list (GET path?q): the cursor parameter
 * `cursor` is set from state.next unless `fresh`; on a 200 the page's
 * items replace (fresh) or extend state.items, state.next takes the
 * answer's `next` member and draw() runs; otherwise `list` shows the
 * failure.  Nothing happens once the screen is left.
 */
export async function loadPage(ctx, {path, q, cursor, next, state, fresh,
                                     list, draw}) {
	if (!fresh && state.next)
		q.set(cursor, String(state.next));
	const r = await ctx.api.get(path + '?' + q);
	if (!ctx.alive())
		return;
	if (r.status !== 200 || !r.body) {
		clear(list).append(failure(ctx.t, r));
		return;
	}
	state.items = (fresh ? [] : state.items).concat(r.body.items || []);
	state.next = r.body[next] || null;
	draw();
}

/* An id shown short but whole for screen readers and copying. */
export function shortId(id) {
	if (!id)
		return '—';
	return h('code', {class: 'utrecht-code nrm-id', title: String(id)},
	         String(id).slice(0, 8));
}

/* A small badge (marks like overdue, priority, verdicts). */
export const badge = (kind, s) =>
	h('span', {class: 'nrm-badge nrm-badge--' + kind}, s);

/* A form's error summary box (showProblem fills it). */
export const formAlert = () =>
	h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
	          role: 'alert', tabindex: '-1', hidden: true});

/* A button's busy state while its call runs. */
export async function busy(btn, fn) {
	btn.disabled = true;
	btn.setAttribute('aria-busy', 'true');
	try {
		return await fn();
	} finally {
		btn.disabled = false;
		btn.removeAttribute('aria-busy');
	}
}

const EXPLOITATION = ['sexual', 'labour', 'criminal', 'begging',
                      'forced_marriage', 'illegal_adoption', 'surrogacy',
                      'organ_removal', 'other'];
const KINDS = ['police', 'kmar', 'labour_inspectorate', 'care_agency', 'ngo',
               'municipality', 'national_centre', 'assessment_body', 'other'];

/* The coverage report of GET /v1/routing/config. */
function coverage(t, cfg) {
	const cov = cfg.coverage || {};
	const regions = Array.isArray(cov.regions) ? cov.regions : [];
	return [
		facts([
			[t('routing.version'), h('code', {class: 'utrecht-code nrm-mono'},
			                         cfg.version)],
			[t('routing.loaded_at'), dateTime(cfg.loaded_at)],
			[t('routing.rules'), String(cov.rules ?? '—')],
			[t('routing.municipalities'), String(cov.municipalities ?? '—')],
			[t('routing.regions_count'), String(regions.length)]
		]),
		table([
			{label: t('routing.region'), cell: (r) => r.code},
			{label: t('routing.region_name'), cell: (r) => r.name},
			{label: t('routing.active'), cell: (r) =>
				r.active ? t('common.yes')
				         : badge('overdue', t('common.no'))},
			{label: t('routing.office'), cell: (r) =>
				r.office ? r.office.name : '—'},
			{label: t('routing.contact'), cell: (r) =>
				r.office ? r.office.contact : '—'}
		], regions, {caption: t('routing.coverage'),
		             empty: t('routing.no_regions')})
	];
}

/* The answer of POST /v1/routing/explain. */
function explanation(t, e) {
	const d = e.decision || {};
	const out = [
		facts([
			[t('routing.x.region'), d.region],
			[t('routing.x.priority'), code('routing.prio', d.priority)],
			[t('routing.x.rule'), h('code', {class: 'utrecht-code'},
			                        d.rule_id)],
			[t('routing.x.take_within'), d.take_within === undefined ? '—'
			 : t('routing.x.minutes', {n: Math.round(d.take_within / 60)})],
			[t('routing.x.contact_within'),
			 d.first_contact_within === undefined ? '—'
			 : t('routing.x.minutes',
			     {n: Math.round(d.first_contact_within / 60)})],
			[t('routing.x.minor'), e.minor ? t('common.yes') : t('common.no')],
			[t('routing.x.notification'),
			 e.notification_only ? t('common.yes') : t('common.no')]
		]),
		h('p', {class: 'utrecht-paragraph nrm-freetext'}, d.explanation)
	];
	return h('div', {class: 'nrm-explained', 'data-testid': 'explanation'},
	         heading(3, t('routing.x.title')), out);
}

/*
 * The routing section: configuration, coverage, and the explain form
 * (POST /v1/routing/explain) with a few facts of a made-up signal; the
 * server decides, the screen only shows what it answered.
 */
export async function routingSection(ctx) {
	const {t, api} = ctx;
	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'routing-h'},
	              heading(2, t('routing.title'), {id: 'routing-h'}));
	const r = await api.get('/v1/routing/config');
	if (!ctx.alive())
		return sec;
	if (r.status === 200 && r.body)
		sec.append(...coverage(t, r.body));
	else
		sec.append(failure(t, r));

	const result = h('div', {'aria-live': 'polite'});
	const form = h('form', {class: 'nrm-form', novalidate: true},
		formAlert(),
		field('location.municipality_code', t('routing.f.municipality'), {
			description: t('routing.f.municipality.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		field('subject.age_estimate', t('routing.f.age'), {type: 'number',
			attrs: {min: 0, max: 120, inputmode: 'numeric'}}),
		select('exploitation', t('routing.f.exploitation'),
		       EXPLOITATION.map((x) => [x, t('routing.expl.' + x)]),
		       {value: 'labour'}),
		select('consent', t('routing.f.consent'),
		       ['given', 'refused', 'unable', 'not_required_minor']
		       .map((x) => [x, t('routing.consent.' + x)]), {value: 'given'}),
		select('reporter_kind', t('routing.f.kind'),
		       KINDS.map((x) => [x, t('routing.kind.' + x)]),
		       {value: 'police'}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('routing.f.submit'), {type: 'submit'}, 'primary-action')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		clear(result);
		const v = (id) => form.querySelector('#' + id).value.trim();
		const signal = {
			observed_at: amsterdamToRfc3339(amsterdamNowLocal()),
			subject: {},
			exploitation: [v('f-exploitation')],
			consent: v('f-consent')
		};
		if (v('f-location-municipality_code'))
			signal.location = {municipality_code:
			                   v('f-location-municipality_code')};
		if (v('f-subject-age_estimate') !== '')
			signal.subject.age_estimate = Number(v('f-subject-age_estimate'));
		const btn = form.querySelector('button[type="submit"]');
		const a = await busy(btn, () => api.post('/v1/routing/explain', {
			signal, reporter_kind: v('f-reporter_kind')}));
		if (!ctx.alive())
			return;
		if (a.status === 200 && a.body) {
			result.append(explanation(t, a.body));
			announce(t('routing.x.done'));
			return;
		}
		/* the signal's fields are named as in the intake body */
		showProblem(form, a.status === 0 ?
			{type: 'urn:nrm:problem:network'} : a.body, a.status);
	});
	sec.append(heading(3, t('routing.explain')),
	           para(t('routing.explain.intro')), form, result);
	return sec;
}
