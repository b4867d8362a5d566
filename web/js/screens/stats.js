/*
 * screens/stats.js - the analyst's screen (issue 13): the indicators
 * register as a list; one indicator over a period (closed periods
 * offered, the running one marked provisional) as an accessible chart
 * (SVG with a text alternative) and the same numbers in a real table
 * with a caption, suppressed cells said in words, never as zero; the
 * register's how / when / by whom beside it; the publications with links
 * to their report and CSV, and "publish" for a closed period; then the
 * routing configuration with its coverage report and "explain a
 * decision".  Text only ever through dom.js (text nodes).
 */
import {h, svg, heading, para, alert, select, button, clear, link,
        announce} from '../dom.js';
import {getLang, dateTime} from '../i18n.js';
import {routingSection, table, facts, failure, busy} from './parts.js';

/*
 * The chart's geometry, in SVG units: each category's words on a line
 * of their own above its bar, one line per dimension, so the chart
 * stays narrow enough to be read at 375 px (a label column beside the
 * bars was scaled down to unreadable text there).  The text is the
 * page's size (console.css): about 14 px once a phone scales the chart.
 * The publication report draws the same chart (pubrender.c).
 */
const BAR_W = 260; /* the longest bar */
const CHART_W = BAR_W + 130; /* and the value after it */
const LINE = 20; /* a label line */
const rowHeight = (lines) => lines * LINE + 24; /* label lines, a bar */

/* The periods of a frequency, newest first: [value, closed]. */
function periods(frequency, now = new Date()) {
	const parts = new Intl.DateTimeFormat('en-CA', {
		timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit'})
		.formatToParts(now);
	const y = Number(parts.find((p) => p.type === 'year').value);
	const m = Number(parts.find((p) => p.type === 'month').value);
	const out = [];
	if (frequency === 'month') {
		for (let i = 0; i < 13; i++) {
			const k = y * 12 + (m - 1) - i;
			out.push([`${Math.floor(k / 12)}-${String(k % 12 + 1)
				.padStart(2, '0')}`, i > 0]);
		}
	} else if (frequency === 'quarter') {
		const q0 = y * 4 + Math.floor((m - 1) / 3);
		for (let i = 0; i < 9; i++) {
			const k = q0 - i;
			out.push([`${Math.floor(k / 4)}-Q${k % 4 + 1}`, i > 0]);
		}
	} else {
		for (let i = 0; i < 6; i++)
			out.push([String(y - i), i > 0]);
	}
	return out;
}

/*
 * A cell's label, one part per dimension: its categories' words
 * (values.labels, from the server's one table of them), the code where
 * there is no word (a region code), or ["total"].
 */
function cellLabelParts(t, values, cell) {
	const by = values.by || [];
	if (!by.length)
		return [t('stats.total')];
	const lang = getLang();
	return by.map((d) => {
		const w = ((values.labels || {})[d] || {})[String(cell[d])];
		return w ? w[lang] : String(cell[d]);
	});
}

/* The same on one line, the parts joined by " / " (the table's). */
function cellLabel(t, values, cell) {
	return cellLabelParts(t, values, cell).join(' / ');
}

/* A cell's value in words: a count, a median and p90, or suppressed. */
function cellText(t, values, cell) {
	if (cell.suppressed)
		return t('stats.suppressed', {k: values.min_cell});
	const v = cell.value;
	if (v === null || v === undefined)
		return '—';
	if (typeof v === 'object')
		return t('stats.duration', {median: v.median, p90: v.p90});
	return String(v);
}

/* The bar chart of a table: one bar per cell, its value beside it. */
function chart(t, title, values, id) {
	const cells = values.cells || [];
	const num = (c) => (c.suppressed || c.value === null ? 0
		: typeof c.value === 'object' ? c.value.median : c.value);
	const max = Math.max(1, ...cells.map(num));
	const lines = (values.by || []).length > 1 ? 2 : 1;
	const height = cells.length * rowHeight(lines) + 4;
	return svg('svg', {class: 'nrm-chart', role: 'img',
	                   'aria-labelledby': id + '-t', viewBox:
	                   `0 0 ${CHART_W} ${height}`, width: String(CHART_W), height},
		svg('title', {id: id + '-t'},
		    t('stats.chart_alt', {title})),
		cells.map((c, i) => {
			const y = i * rowHeight(lines) + 2;
			const bar = y + lines * LINE + 3;
			const w = Math.round(num(c) / max * BAR_W);
			const parts = cellLabelParts(t, values, c);
			return svg('g', null,
				parts.map((p, k) => svg('text', {x: 0, y: y + 15 + k * LINE,
				                                 class: 'nrm-chart__label'},
				    k + 1 < parts.length ? p + ' /' : p)),
				svg('rect', {x: 0, y: bar, width: w, height: 14,
				             class: 'nrm-chart__bar'}),
				svg('text', {x: w + 6, y: bar + 13,
				             class: 'nrm-chart__value'},
				    cellText(t, values, c)));
		}));
}

/* One indicator's values: heading, meta, chart and table. */
function indicatorView(t, ind, lang) {
	const v = ind.values;
	const title = ind.title[lang];
	const provisional = v.provisional ?
		alert('warning', t('stats.provisional')) : null;
	return h('div', {class: 'nrm-indicator'},
		heading(3, title + ', ' + v.period),
		para(ind.definition[lang]),
		facts([[t('stats.how'), ind.how[lang]],
		       [t('stats.when'), t('stats.when_value', {
			       frequency: t('stats.freq.' + ind.when.frequency),
			       days: ind.when.publish_days_after_close})],
		       [t('stats.by_whom'), ind.by_whom],
		       [t('stats.goal'), ind.goal[lang]]]),
		provisional,
		chart(t, title, v, 'chart-' + ind.id),
		table([{label: t('stats.category'),
		        cell: (c) => cellLabel(t, v, c)},
		       {label: t('stats.value', {unit: t('stats.unit.' + v.unit)}),
		        cell: (c) => cellText(t, v, c)}],
		      v.cells || [],
		      {caption: t('stats.table_caption', {title,
		                                           period: v.period})}));
}

async function indicatorsSection(ctx) {
	const {t, api} = ctx;
	const lang = getLang();
	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'ind-h'},
		heading(2, t('stats.indicators'), {id: 'ind-h'}));
	const r = await api.get('/v1/indicators');
	if (!ctx.alive())
		return sec;
	if (r.status !== 200) {
		sec.append(failure(t, r));
		return sec;
	}
	const items = r.body.items || [];
	const out = h('div', {'aria-live': 'polite'});
	const pick = select('indicator', t('stats.indicator'),
	                    items.map((x) => [x.id, x.title[lang]]));
	const periodBox = h('div');
	const indSel = pick.querySelector('select');
	const fillPeriods = () => {
		const it = items.find((x) => x.id === indSel.value);
		clear(periodBox).append(select('period', t('stats.period'),
			periods(it ? it.when.frequency : 'quarter').map(([p, c]) =>
				[p, c ? p : t('stats.period_provisional', {period: p})]),
			{value: periods(it ? it.when.frequency : 'quarter')[1][0]}));
	};
	indSel.addEventListener('change', fillPeriods);
	fillPeriods();
	const show = button(t('stats.show'), {}, 'primary-action');
	show.addEventListener('click', () => busy(show, async () => {
		const period = periodBox.querySelector('select').value;
		const a = await api.get('/v1/indicators/'
			+ encodeURIComponent(indSel.value) + '?period='
			+ encodeURIComponent(period));
		if (!ctx.alive())
			return;
		clear(out);
		if (a.status !== 200) {
			out.append(failure(t, a));
			return;
		}
		out.append(indicatorView(t, a.body, lang));
		announce(t('stats.shown'));
	}));
	sec.append(
		h('ul', {class: 'nrm-register'}, items.map((x) =>
			h('li', null, h('strong', null, x.title[lang]), ' — ',
			  x.by_whom, ', ', t('stats.freq.' + x.when.frequency)))),
		h('div', {class: 'nrm-toolbar'}, pick, periodBox, show), out);
	return sec;
}

/* The publications: list with report and CSV links, and publish. */
async function publicationsSection(ctx) {
	const {t, api} = ctx;
	const lang = getLang();
	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'pub-h'},
		heading(2, t('stats.publications'), {id: 'pub-h'}));
	const list = h('div');
	const note = h('div', {'aria-live': 'polite'});
	const draw = async () => {
		const r = await api.get('/v1/publications');
		if (!ctx.alive())
			return;
		clear(list);
		if (r.status !== 200) {
			list.append(failure(t, r));
			return;
		}
		list.append(table([
			{label: t('stats.pub_period'), cell: (p) => p.period},
			{label: t('stats.pub_revision'), cell: (p) => String(p.revision)},
			{label: t('stats.pub_at'), cell: (p) => dateTime(p.created_at)},
			{label: t('stats.pub_changes'),
			 cell: (p) => p.changes ? h('pre', {class: 'nrm-changes'},
			                            p.changes) : '—'},
			{label: t('stats.pub_files'), cell: (p) => [
				link(`/v1/publications/${p.id}?format=html&lang=${lang}`,
				     t('stats.pub_report', {period: p.period,
				                            revision: p.revision})),
				' ',
				link(`/v1/publications/${p.id}?format=csv`,
				     t('stats.pub_csv', {period: p.period,
				                         revision: p.revision}))]},
		], r.body.items || [], {caption: t('stats.publications'),
		                        empty: t('stats.pub_none')}));
	};
	const closed = periods('quarter').filter(([, c]) => c)
		.concat(periods('year').filter(([, c]) => c));
	const pick = select('publish_period', t('stats.publish_period'),
	                    closed.map(([p]) => [p, p]));
	const go = button(t('stats.publish'), {}, 'primary-action');
	go.addEventListener('click', () => busy(go, async () => {
		const period = pick.querySelector('select').value;
		const r = await api.post('/v1/publications', {period});
		if (!ctx.alive())
			return;
		clear(note);
		if (r.status === 201)
			note.append(alert('ok', t('stats.published', {
				period, revision: r.body.revision})));
		else if (r.status === 200)
			note.append(alert('info', t('stats.unchanged', {
				period, revision: r.body.revision})));
		else
			note.append(failure(t, r));
		await draw();
	}));
	await draw();
	sec.append(para(t('stats.publications_intro')),
	           h('div', {class: 'nrm-toolbar'}, pick, go), note, list);
	return sec;
}

export async function render(root, ctx) {
	const {t} = ctx;
	root.append(heading(1, t('stats.title')), para(t('stats.intro')));
	const ind = await indicatorsSection(ctx);
	if (!ctx.alive())
		return;
	root.append(ind);
	const pubs = await publicationsSection(ctx);
	if (!ctx.alive())
		return;
	root.append(pubs);
	const sec = await routingSection(ctx);
	if (ctx.alive())
		root.append(sec);
}
