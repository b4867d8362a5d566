/*
 * screens/inbox.js - the coordinator's inbox (GET /v1/inbox): the cases of
 * its regions in the API's order (priority, take deadline, arrival), with
 * priority, the take and first-contact deadlines counting down, overdue
 * and escalated marked; filters for state, priority and "mine".  Live: a
 * long-poll (after = the answer's watermark, wait) wakes when a case
 * arrives and the list is read again; the new rows are marked and
 * announced.  A row can be taken here (POST take with If-Match of the
 * row's version); a 409/412 shows the case's current state and changes
 * nothing.  A case is found by its readable reference (GET
 * /v1/cases?reference=, issue 18) and opened.
 */
import {h, heading, para, field, select, check, button, alert, clear,
        announce} from '../dom.js';
import {code, dateTime, countdown, problemMessage} from '../i18n.js';
import {regionName} from '../regions.js';
import {tableHead} from './parts.js';

const WAIT = 20;	/* seconds a long-poll waits (the daemon may cut it) */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function shortId(id) {
	return id ? String(id).slice(0, 8) : '';
}

/* The marks of an item: priority, minor, escalated, declines, overdue. */
export function marks(it, t) {
	const late = it.state === 'open' && new Date(it.take_by) < Date.now();
	return [
		h('span', {class: 'nrm-badge nrm-badge--' + it.priority},
		  code('priority', it.priority)),
		it.minor ? h('span', {class: 'nrm-badge'}, t('inbox.mark.minor')) : null,
		it.escalated ? h('span', {class: 'nrm-badge nrm-badge--escalated'},
		                 t('inbox.mark.escalated')) : null,
		it.declines ? h('span', {class: 'nrm-badge nrm-badge--declined'},
		                t('inbox.mark.declines', {n: it.declines})) : null,
		late ? h('span', {class: 'nrm-badge nrm-badge--overdue'},
		         t('inbox.mark.overdue')) : null];
}

/* A deadline cell that counts down (data-deadline, refreshed each second). */
export function deadline(iso, active) {
	const el = h('span', {class: 'nrm-deadline', dataset: {deadline: iso}},
	             h('span', {class: 'nrm-deadline__at'}, dateTime(iso)),
	             active ? h('br') : null,
	             active ? h('span', {class: 'nrm-deadline__left'}) : null);
	tick(el);
	return el;
}

export function tick(scope) {
	const now = Date.now();
	const els = scope.matches && scope.matches('[data-deadline]') ? [scope] :
		scope.querySelectorAll('[data-deadline]');
	for (const el of els) {
		const left = el.querySelector('.nrm-deadline__left');
		if (!left)
			continue;
		const c = countdown(el.dataset.deadline, now);
		left.textContent = c.text;
		left.classList.toggle('nrm-late', c.late);
	}
}

export function render(root, ctx) {
	const {t, api} = ctx;
	const filters = h('form', {class: 'nrm-inline-form', id: 'inbox-filters'},
		select('state', t('inbox.filter.state'),
		       ['open', 'taken', 'closed', 'transfer_pending', 'all'].map((s) =>
			       [s, t('inbox.state.' + s)]), {value: 'open'}),
		select('priority', t('inbox.filter.priority'),
		       ['urgent', 'high', 'normal'].map((p) => [p, code('priority', p)]),
		       {empty: t('inbox.filter.all')}),
		check('mine', t('inbox.filter.mine')),
		h('div', {class: 'nrm-actions'},
		  button(t('common.refresh'), {type: 'submit'})));
	/* find a case by its readable reference, as heard */
	const find = h('form', {class: 'nrm-inline-form', id: 'inbox-find',
	                        novalidate: true},
		field('reference', t('inbox.find.reference'), {id: 'f-find-reference',
			attrs: {autocomplete: 'off', maxlength: '20'}}),
		h('div', {class: 'nrm-actions'},
		  button(t('inbox.find'), {type: 'submit'})),
		h('div', {id: 'inbox-find-result', role: 'status'}));
	find.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const out = find.querySelector('#inbox-find-result');
		clear(out);
		const r = await api.get('/v1/cases?reference=' + encodeURIComponent(
			find.querySelector('#f-find-reference').value));
		if (r.expired)
			return;
		if (r.status === 200 && r.body.items.length)
			ctx.navigate('#/case/' + r.body.items[0].case_id);
		else
			out.append(alert('error', problemMessage(r.body, r.status)));
	});
	const live = h('p', {class: 'utrecht-paragraph nrm-live', id: 'inbox-live'});
	const notice = h('div', {id: 'inbox-alert'});
	const loadErr = h('div', {id: 'inbox-error'});
	const table = h('div', {class: 'nrm-table-wrap', tabindex: '0', role: 'region',
	                        'aria-label': t('inbox.caption')});
	const more = h('div', {class: 'nrm-actions'});
	root.append(heading(1, t('inbox.title')),
	            para(t('inbox.intro', {regions: (ctx.session.person.regions || [])
	                 .map(regionName).join(', ')})),
	            filters, find, live, loadErr, notice, table, more);
	let after = null;
	let seen = null;	/* case ids shown before, to mark new ones */
	let cursor = null;
	let shown = null;	/* the items drawn, to redraw only on a change */

	const query = (extra) => {
		const q = new URLSearchParams();
		const st = filters.querySelector('#f-state').value;
		const pr = filters.querySelector('#f-priority').value;
		q.set('state', st);
		if (pr)
			q.set('priority', pr);
		if (filters.querySelector('#f-mine').checked)
			q.set('mine', 'true');
		for (const [k, v] of Object.entries(extra || {}))
			q.set(k, v);
		return '/v1/inbox?' + q.toString();
	};

	function row(it, fresh) {
		const open = it.state === 'open';
		const cell = (label, kids, attrs) =>
			h('td', {class: 'utrecht-table__cell', 'data-label': label, ...attrs}, kids);
		const holder = it.holder ? [it.holder_agency || '',
			h('span', {class: 'nrm-mono'}, ' ' + shortId(it.holder))] : t('common.none');
		return h('tr', {class: 'utrecht-table__row' + (fresh ? ' nrm-new' : ''),
		                dataset: {case: it.case_id, state: it.state}},
			cell(t('inbox.col.case'), h('a', {
				class: 'utrecht-link utrecht-link--html-a nrm-mono',
				href: '#/case/' + it.case_id,
				'aria-label': t('inbox.open_case', {id: shortId(it.case_id)})},
				shortId(it.case_id))),
			cell(t('inbox.col.marks'), marks(it, t)),
			cell(t('inbox.col.region'), regionName(it.region)),
			cell(t('inbox.col.state'), [code('state', it.state),
			     it.closed_reason ? ' (' + code('close', it.closed_reason) + ')' : '']),
			cell(t('inbox.col.holder'), holder),
			cell(t('inbox.col.take_by'), deadline(it.take_by, open)),
			cell(t('inbox.col.first_contact_by'),
			     deadline(it.first_contact_by, it.state !== 'closed')),
			cell(t('inbox.col.exploitation'),
			     it.exploitation.map((e) => code('exploitation', e)).join(', ')),
			cell(t('inbox.col.arrived'), dateTime(it.created_at)),
			cell(t('inbox.col.action'), open ? button(t('case.take'), {
				'aria-label': t('inbox.take_case', {id: shortId(it.case_id)}),
				onclick: () => take(it)}, 'primary-action') : null));
	}

	function draw(items, append) {
		let tbody = table.querySelector('tbody');
		if (!append || !tbody) {
			clear(table);
			if (!items.length) {
				table.append(para(t('inbox.empty'), {id: 'inbox-empty'}));
				return;
			}
			tbody = h('tbody', {class: 'utrecht-table__body'});
			const cols = ['case', 'marks', 'region', 'state', 'holder', 'take_by',
			              'first_contact_by', 'exploitation', 'arrived', 'action'];
			table.append(h('table', {class: 'utrecht-table nrm-table nrm-table--cards',
			                         id: 'inbox-table'},
				h('caption', {class: 'utrecht-table__caption nrm-visually-hidden'},
				  t('inbox.caption')),
				tableHead(cols.map((c) => t('inbox.col.' + c))),
				tbody));
		}
		for (const it of items)
			tbody.append(row(it, seen && !seen.has(it.case_id)));
	}

	async function load(announceNew) {
		const r = await api.get(query({limit: '50'}));
		if (!ctx.alive() || r.expired)
			return;
		if (r.status !== 200) {
			clear(loadErr).append(alert('error', problemMessage(r.body, r.status)));
			return;
		}
		clear(loadErr);
		const items = r.body.items;
		const fresh = seen ? items.filter((i) => !seen.has(i.case_id)) : [];
		const key = JSON.stringify(items);
		if (key !== shown) {
			/* redraw only on a change, and keep the keyboard's place */
			shown = key;
			const f = document.activeElement;
			const at = f && table.contains(f) && f.closest('tr[data-case]') ?
				[f.closest('tr[data-case]').dataset.case, f.tagName] : null;
			draw(items, false);
			const back = at && table.querySelector(
				`tr[data-case="${CSS.escape(at[0])}"] ${at[1].toLowerCase()}`);
			if (back)
				back.focus();
			else if (at)
				table.focus();
		}
		seen = new Set([...(seen || []), ...items.map((i) => i.case_id)]);
		cursor = r.body.next_cursor;
		clear(more);
		if (cursor)
			more.append(button(t('inbox.more'), {onclick: loadMore}));
		if (!after)
			after = r.body.after;
		live.textContent = t('inbox.live', {time: dateTime(new Date().toISOString())});
		if (announceNew && fresh.length)
			announce(t('inbox.arrived', {n: fresh.length}));
	}

	async function loadMore() {
		const r = await api.get(query({limit: '50', cursor}));
		if (!ctx.alive() || r.status !== 200)
			return;
		draw(r.body.items, true);
		shown = null;
		for (const i of r.body.items)
			seen.add(i.case_id);
		cursor = r.body.next_cursor;
		clear(more);
		if (cursor)
			more.append(button(t('inbox.more'), {onclick: loadMore}));
	}

	async function take(it) {
		const r = await api.post('/v1/cases/' + it.case_id + '/take', {},
			{headers: {'If-Match': '"' + it.version + '"'}});
		if (!ctx.alive() || r.expired)
			return;
		clear(notice);
		if (r.status === 200) {
			notice.append(alert('ok', t('case.done.take', {id: shortId(it.case_id)})));
			announce(t('case.done.take', {id: shortId(it.case_id)}));
		} else if (r.status === 409 || r.status === 412) {
			notice.append(conflictAlert(t, r.body, r.status));
		} else {
			notice.append(alert('error', problemMessage(r.body, r.status)));
		}
		await load(false);
	}

	/* One long-poll loop per visit of the screen; any arrival re-reads. */
	async function poll() {
		while (ctx.alive()) {
			if (!after) {
				await sleep(2000);
				continue;
			}
			const r = await api.get('/v1/inbox?' + new URLSearchParams(
				{after, wait: String(WAIT), limit: '1'}).toString());
			if (!ctx.alive() || r.expired)
				return;
			if (r.status !== 200) {
				live.textContent = t('inbox.offline');
				await sleep(5000);
				continue;
			}
			after = r.body.after;
			await load(r.body.items.length > 0);
		}
	}

	const timer = setInterval(() => tick(table), 1000);
	ctx.onLeave(() => clearInterval(timer));
	filters.addEventListener('submit', (ev) => {
		ev.preventDefault();
		load(false);
	});
	filters.addEventListener('change', () => {
		seen = null;
		load(false);
	});
	return load(false).then(() => {
		poll();
	});
}

/* The 409/412 answer as an alert: the case as it is now; nothing changed. */
export function conflictAlert(t, p, status) {
	p = p || {};
	const lines = [h('strong', null, status === 409 ? t('err.conflict')
	                                                : t('err.precondition'))];
	const now = [];
	if (p.state)
		now.push(t('case.conflict.state', {state: code('state', p.state)}));
	if (p.holder)
		now.push(t('case.conflict.holder', {holder: shortId(p.holder)}));
	if (p.version)
		now.push(t('case.conflict.version', {version: p.version}));
	lines.push(' ' + t('case.conflict.now') + ' ' + now.join(', ') + '. ' +
	           t('case.conflict.nothing'));
	return alert('warning', lines, {dataset: {conflict: String(status)}});
}
