/*
 * screens/overview.js - the national screen (issue 20): GET /v1/overview
 * as a table of regions, the national desk last, with their load (open,
 * untaken, past the deadlines, escalated, transferred and not yet taken,
 * the median time to take) and their coverage (coordinators, when one
 * last acted, covered or not).  Every status is a word and a colour,
 * never the colour alone.  Refreshed every 30 seconds while the screen
 * is open; "updated at" says when.  For the chain director and the
 * national desk (every region) and regional coordinators (their rows).
 * Counts only: the answer holds no case and no person.
 */
import {h, heading, para, alert, append, clear, text} from '../dom.js';
import {dateTime} from '../i18n.js';
import {badge, failure, tableHead} from './parts.js';

const POLL_MS = 30000;

const COUNTS = ['open', 'untaken', 'past_take_deadline',
                'past_first_contact_deadline', 'escalated_7d',
                'transferred_untaken'];

/* Seconds as "1 h 05 min" / "12 min" / "40 s"; a dash for none. */
function duration(t, s) {
	if (s === null || s === undefined)
		return t('common.none');
	if (s < 60)
		return t('ov.secs', {n: s});
	const m = Math.round(s / 60);
	if (m < 60)
		return t('ov.mins', {n: m});
	return t('ov.hours', {h: Math.floor(m / 60),
	                      m: String(m % 60).padStart(2, '0')});
}

/* The load of a row as [badge kind, text]: past a deadline is late. */
function load(t, r) {
	if (r.past_take_deadline > 0)
		return ['urgent', t('ov.load.late')];
	if (r.untaken > 0)
		return ['high', t('ov.load.waiting')];
	return ['normal', t('ov.load.calm')];
}

function coverage(t, c) {
	if (c.covered)
		return ['mine', t('ov.cov.covered')];
	return ['overdue', c.coordinators ? t('ov.cov.silent')
	                   : t('ov.cov.nobody')];
}

function row(t, r) {
	const cell = (label, kids, cls) =>
		h('td', {class: 'utrecht-table__cell' + (cls ? ' ' + cls : ''),
		         'data-label': label}, h('div', {class: 'nrm-cell'}, kids));
	const [lk, lt] = load(t, r);
	const [ck, ct] = coverage(t, r.coverage);
	return h('tr', {class: 'utrecht-table__row', dataset: {region: r.region}},
		h('th', {class: 'utrecht-table__header-cell', scope: 'row'},
		  r.region === 'NATIONAL' ? t('ov.national') : r.name, ' ',
		  h('span', {class: 'nrm-mono'}, r.region)),
		cell(t('ov.col.status'), [badge(lk, lt), badge(ck, ct)]),
		COUNTS.map((k) => cell(t('ov.col.' + k), String(r[k]),
		                       'nrm-num')),
		cell(t('ov.col.median'), duration(t, r.median_take_s)),
		cell(t('ov.col.coordinators'), [String(r.coverage.coordinators),
		     h('br'), h('span', {class: 'nrm-muted'}, t('ov.last_acted',
			{at: dateTime(r.coverage.last_acted_at)}))]));
}

function regionsTable(t, rows) {
	const cols = ['region', 'status', ...COUNTS, 'median', 'coordinators'];
	return h('div', {class: 'nrm-table-wrap', tabindex: '0', role: 'region',
	                 'aria-label': t('ov.caption')},
		h('table', {class: 'utrecht-table utrecht-table--html-table'
		            + ' nrm-table nrm-table--cards', id: 'overview-table'},
		  h('caption', {class: 'utrecht-table__caption nrm-caption'},
		    t('ov.caption')),
		  tableHead(cols.map((c) => t('ov.col.' + c))),
		  h('tbody', {class: 'utrecht-table__body'},
		    rows.map((r) => row(t, r)))));
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	const stamp = h('p', {class: 'utrecht-paragraph nrm-updated',
	                      role: 'status', 'aria-live': 'polite'});
	const body = h('div', {id: 'overview-body'});
	root.append(heading(1, t('ov.title')), para(t('ov.intro')), stamp,
	            body);

	async function refresh() {
		const r = await api.get('/v1/overview');
		if (!ctx.alive() || r.expired)
			return;
		if (r.status === 200 && r.body) {
			const rows = r.body.regions || [];
			const open = rows.filter((x) => !x.coverage.covered).length;
			append(clear(body), [
				open ? alert('warning', t('ov.uncovered', {n: open}))
				     : null,
				rows.length ? regionsTable(t, rows)
				            : para(t('ov.none')),
				para(t('ov.note', {days: Math.round(
					r.body.silent_after_s / 86400 * 10) / 10}))]);
			text(stamp, t('ov.updated', {at: dateTime(
				r.body.generated_at)}));
		} else {
			append(clear(body), failure(t, r));
		}
		setTimeout(() => {
			if (ctx.alive())
				refresh();
		}, POLL_MS);
	}
	await refresh();
}
