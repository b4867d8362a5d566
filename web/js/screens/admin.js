/*
 * screens/admin.js - the administrator's screen: persons (GET /v1/admin/
 * persons, paged by next_after; create with POST /v1/admin/persons, whose
 * one-time enrolment code is shown once, here, and never again; disable,
 * enable, reset, the last with a new enrolment code); API keys (GET and
 * POST /v1/admin/keys, whose token is shown once, here, with a "copy it
 * now" message; revoke after a confirmation); the routing configuration,
 * its coverage report and "explain a decision" (parts.js).
 */
import {h, heading, para, alert, field, select, button, clear,
        announce} from '../dom.js';
import {dateTime, code, showProblem, clearProblems} from '../i18n.js';
import {table, loadPage, failure, shortId, badge, formAlert, busy,
        routingSection} from './parts.js';

const ROLES = ['reporter', 'coordinator', 'assessor', 'investigator',
               'auditor', 'analyst', 'admin', 'chain_director',
               'privacy_officer'];

/* An alert for a section's notice area, which focuses what it shows. */
function focusable(el) {
	el.setAttribute('tabindex', '-1');
	return el;
}

/* The one-time enrolment code of a created or reset person. */
function codeBox(t, p) {
	return focusable(alert('warning', [
		h('strong', null, t('admin.code.title', {login: p.login})), h('br'),
		t('admin.code.text'), ' ',
		h('code', {class: 'utrecht-code nrm-mono nrm-enrolment-code',
		           id: 'enrolment-code'}, p.enrolment_code),
		p.enrolment_expires_at ? [h('br'), t('admin.code.expires', {
			at: dateTime(p.enrolment_expires_at)})] : null]));
}

/* The one-time token of a key just made. */
function tokenBox(t, k) {
	return focusable(alert('warning', [
		h('strong', null, t('admin.token.title', {label: k.label})), h('br'),
		t('admin.token.text'),
		h('code', {class: 'utrecht-code nrm-mono nrm-token', id: 'key-token'},
		  k.token)]));
}

/*
 * What the persons and the keys sections share: the keyset-paged list of
 * `path` (state, list, a "more" button labelled `moreLabel`, load(fresh);
 * draw() redraws it), a notice area whose show(el) replaces what it holds
 * and focuses it, and act(row, url, btn, done): POST url {} while btn is
 * busy; on a 200 with a body the row takes the answer, show(done(row,
 * answer)) and draw(), else the failure is shown.
 */
function adminList(ctx, path, moreLabel, draw) {
	const {t, api} = ctx;
	const state = {items: [], next: null};
	const list = h('div');
	const notice = h('div');
	const more = button(moreLabel, {hidden: true,
		onclick: () => load(false)});

	function show(el) {
		clear(notice).append(el);
		el.focus();
	}

	async function act(row, url, btn, done) {
		const r = await busy(btn, () => api.post(url, {}));
		if (!ctx.alive())
			return;
		if (r.status !== 200 || !r.body) {
			show(focusable(failure(t, r)));
			return;
		}
		Object.assign(row, r.body);
		show(done(row, r.body));
		draw();
	}

	const load = (fresh) => loadPage(ctx, {path,
		q: new URLSearchParams({limit: '50'}), cursor: 'after',
		next: 'next_after', state, fresh, list, draw});
	return {state, list, notice, more, show, act, load};
}

/*
 * The fields a person and a key are made with besides their own: role,
 * regions and agency, each with the element id `prefix` + name.
 */
function grantFields(ctx, prefix) {
	const {t} = ctx;
	return [
		select('role', t('admin.f.role'), ROLES.map((r) =>
			[r, code('role', r)]), {required: true, value: 'reporter',
			id: prefix + 'role'}),
		field('regions', t('admin.f.regions'), {id: prefix + 'regions',
			description: t('admin.f.regions.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		field('agency_id', t('admin.f.agency_id'), {required: true,
			id: prefix + 'agency_id',
			description: t('admin.f.agency_id.help'),
			value: ctx.session ? ctx.session.person.agency_id : '',
			attrs: {autocomplete: 'off', spellcheck: 'false'}})];
}

/*
 * The create form's submit: POST path with the trimmed fields `names`
 * and the regions (split, upper case; left out when none).  On a 201
 * the fields `emptied` are emptied, the list shows box(answer) and
 * announces said(answer), and reloads; otherwise the form shows the
 * problem.
 */
function onCreate(ctx, form, lst, {path, prefix, names, emptied, box,
                                   said}) {
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const v = (n) => form.querySelector('#' + prefix + n).value.trim();
		const body = {};
		for (const n of names)
			body[n] = v(n);
		const regions = v('regions').split(/[\s,]+/).filter(Boolean)
			.map((x) => x.toUpperCase());
		if (regions.length)
			body.regions = regions;
		const btn = form.querySelector('button[type="submit"]');
		const r = await busy(btn, () => ctx.api.post(path, body));
		if (!ctx.alive())
			return;
		if (r.status === 201 && r.body) {
			for (const n of emptied)
				form.querySelector('#' + prefix + n).value = '';
			lst.show(box(ctx.t, r.body));
			announce(said(r.body));
			lst.load(true);
			return;
		}
		showProblem(form, r.status === 0 ?
			{type: 'urn:nrm:problem:network'} : r.body, r.status);
	});
}

function personsSection(ctx) {
	const {t} = ctx;
	const lst = adminList(ctx, '/v1/admin/persons', t('admin.more'), draw);

	const act = (p, what, btn) => lst.act(p, '/v1/admin/persons/'
		+ encodeURIComponent(p.id) + '/' + what, btn, (row, answer) =>
		what === 'reset' ? codeBox(t, answer) : focusable(alert('ok',
			t('admin.done.' + what, {login: row.login}))));

	function actions(p) {
		const out = h('div', {class: 'nrm-actions'});
		const lbl = (k) => t('admin.act.' + k + '_for', {login: p.login});
		const b = (k) => button(t('admin.act.' + k), {
			'aria-label': lbl(k), onclick: (e) => act(p, k, e.currentTarget)});
		out.append(p.status === 'active' ? b('disable') : b('enable'),
		           b('reset'));
		return out;
	}

	function draw() {
		clear(lst.list).append(table([
			{label: t('admin.col.login'), cell: (p) =>
				h('span', {class: 'nrm-isolate'}, p.login)},
			{label: t('admin.col.name'), cell: (p) =>
				h('span', {class: 'nrm-freetext'}, p.display_name)},
			{label: t('admin.col.role'), cell: (p) => code('role', p.role)},
			{label: t('admin.col.regions'), cell: (p) =>
				p.regions && p.regions.length ? p.regions.join(', ') : '—'},
			{label: t('admin.col.agency'), cell: (p) =>
				h('span', {class: 'nrm-freetext'}, p.agency)},
			{label: t('admin.col.status'), cell: (p) =>
				p.status === 'active' ? badge('mine', t('admin.active'))
				: badge('overdue', t('admin.disabled'))},
			{label: t('admin.col.actions'), cell: actions}
		], lst.state.items, {caption: t('admin.persons.caption'),
		                     empty: t('admin.persons.none')}));
		lst.more.hidden = !lst.state.next;
	}

	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'create-h'},
		formAlert(),
		field('login', t('admin.f.login'), {required: true,
			description: t('admin.f.login.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false',
			        autocapitalize: 'none'}}),
		field('display_name', t('admin.f.display_name'), {required: true,
			attrs: {autocomplete: 'off'}}),
		grantFields(ctx, 'f-'),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('admin.f.submit'), {type: 'submit'}, 'primary-action')));
	onCreate(ctx, form, lst, {path: '/v1/admin/persons', prefix: 'f-',
		names: ['login', 'display_name', 'agency_id', 'role'],
		emptied: ['login', 'display_name', 'regions'], box: codeBox,
		said: (p) => t('admin.code.title', {login: p.login})});

	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'persons-h'},
		heading(2, t('admin.persons'), {id: 'persons-h'}), lst.notice,
		lst.list, h('div', {class: 'nrm-actions'}, lst.more),
		heading(3, t('admin.create'), {id: 'create-h'}),
		para(t('admin.create.intro')), form);
	return {sec, load: lst.load};
}

function keysSection(ctx) {
	const {t} = ctx;
	const lst = adminList(ctx, '/v1/admin/keys', t('admin.keys.more'), draw);

	const revoke = (k, btn) => lst.act(k, '/v1/admin/keys/'
		+ encodeURIComponent(k.id) + '/revoke', btn, (row) =>
		focusable(alert('ok', t('admin.keys.revoked', {label: row.label}))));

	/* Ask first: the key's systems stop working at once. */
	function confirmRevoke(k) {
		const yes = button(t('admin.keys.confirm.yes'), {
			onclick: (e) => revoke(k, e.currentTarget)}, 'primary-action');
		const no = button(t('admin.keys.confirm.no'), {onclick: () => {
			clear(lst.notice);
			const back = lst.list.querySelector('[data-key="' + k.id + '"]');
			if (back)
				back.focus();
		}});
		lst.show(focusable(alert('warning', [
			h('strong', null, t('admin.keys.confirm.title',
			                    {label: k.label})), h('br'),
			t('admin.keys.confirm.text'),
			h('div', {class: 'utrecht-button-group nrm-actions'}, yes, no)])));
	}

	function draw() {
		clear(lst.list).append(table([
			{label: t('admin.keys.col.label'), cell: (k) =>
				h('span', {class: 'nrm-freetext'}, k.label || '—')},
			{label: t('admin.col.role'), cell: (k) => code('role', k.role)},
			{label: t('admin.col.regions'), cell: (k) =>
				k.regions && k.regions.length ? k.regions.join(', ') : '—'},
			{label: t('admin.col.agency'), cell: (k) =>
				h('span', {class: 'nrm-freetext'}, k.agency)},
			{label: t('admin.keys.col.created'), cell: (k) =>
				dateTime(k.created_at)},
			{label: t('admin.col.status'), cell: (k) => k.revoked_at ?
				badge('overdue', t('admin.keys.revoked_at',
				                   {at: dateTime(k.revoked_at)}))
				: badge('mine', t('admin.active'))},
			{label: t('admin.col.actions'), cell: (k) => k.revoked_at ? '—'
				: button(t('admin.keys.revoke'), {
					'aria-label': t('admin.keys.revoke_for',
					                {label: k.label || shortId(k.id)}),
					dataset: {key: k.id},
					onclick: () => confirmRevoke(k)})}
		], lst.state.items, {caption: t('admin.keys.caption'),
		                     empty: t('admin.keys.none')}));
		lst.more.hidden = !lst.state.next;
	}

	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'key-create-h'},
		formAlert(),
		field('label', t('admin.keys.f.label'), {required: true,
			id: 'k-label', description: t('admin.keys.f.label.help'),
			attrs: {autocomplete: 'off'}}),
		grantFields(ctx, 'k-'),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('admin.keys.f.submit'), {type: 'submit'},
		         'primary-action')));
	onCreate(ctx, form, lst, {path: '/v1/admin/keys', prefix: 'k-',
		names: ['label', 'agency_id', 'role'], emptied: ['label', 'regions'],
		box: tokenBox, said: (k) => t('admin.token.title', {label: k.label})});

	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'keys-h'},
		heading(2, t('admin.keys'), {id: 'keys-h'}),
		para(t('admin.keys.text')), lst.notice,
		lst.list, h('div', {class: 'nrm-actions'}, lst.more),
		heading(3, t('admin.keys.create'), {id: 'key-create-h'}), form);
	return {sec, load: lst.load};
}

export async function render(root, ctx) {
	const {t} = ctx;
	const persons = personsSection(ctx);
	const keys = keysSection(ctx);
	root.append(heading(1, t('admin.title')), para(t('admin.intro')),
	            persons.sec, keys.sec);
	await persons.load(true);
	if (!ctx.alive())
		return;
	await keys.load(true);
	if (!ctx.alive())
		return;
	const routing = await routingSection(ctx);
	if (ctx.alive())
		root.append(routing);
}
