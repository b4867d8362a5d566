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

/* The one-time enrolment code of a created or reset person. */
function codeBox(t, p) {
	const el = alert('warning', [
		h('strong', null, t('admin.code.title', {login: p.login})), h('br'),
		t('admin.code.text'), ' ',
		h('code', {class: 'utrecht-code nrm-mono nrm-enrolment-code',
		           id: 'enrolment-code'}, p.enrolment_code),
		p.enrolment_expires_at ? [h('br'), t('admin.code.expires', {
			at: dateTime(p.enrolment_expires_at)})] : null]);
	el.setAttribute('tabindex', '-1');
	return el;
}

function personsSection(ctx) {
	const {t, api} = ctx;
	const state = {items: [], next: null};
	const list = h('div');
	const notice = h('div');
	const more = button(t('admin.more'), {hidden: true,
		onclick: () => load(false)});

	function show(el) {
		clear(notice).append(el);
		el.focus();
	}

	async function act(p, what, btn) {
		const r = await busy(btn, () => api.post('/v1/admin/persons/'
			+ encodeURIComponent(p.id) + '/' + what, {}));
		if (!ctx.alive())
			return;
		if (r.status !== 200 || !r.body) {
			const f = failure(t, r);
			f.setAttribute('tabindex', '-1');
			show(f);
			return;
		}
		Object.assign(p, r.body);
		if (what === 'reset') {
			show(codeBox(t, r.body));
		} else {
			const a = alert('ok', t('admin.done.' + what, {login: p.login}));
			a.setAttribute('tabindex', '-1');
			show(a);
		}
		draw();
	}

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
		clear(list).append(table([
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
		], state.items, {caption: t('admin.persons.caption'),
		                 empty: t('admin.persons.none')}));
		more.hidden = !state.next;
	}

	const load = (fresh) => loadPage(ctx, {path: '/v1/admin/persons',
		q: new URLSearchParams({limit: '50'}), cursor: 'after',
		next: 'next_after', state, fresh, list, draw});

	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'create-h'},
		formAlert(),
		field('login', t('admin.f.login'), {required: true,
			description: t('admin.f.login.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false',
			        autocapitalize: 'none'}}),
		field('display_name', t('admin.f.display_name'), {required: true,
			attrs: {autocomplete: 'off'}}),
		select('role', t('admin.f.role'), ROLES.map((r) =>
			[r, code('role', r)]), {required: true, value: 'reporter'}),
		field('regions', t('admin.f.regions'), {
			description: t('admin.f.regions.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		field('agency_id', t('admin.f.agency_id'), {required: true,
			description: t('admin.f.agency_id.help'),
			value: ctx.session ? ctx.session.person.agency_id : '',
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('admin.f.submit'), {type: 'submit'}, 'primary-action')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const v = (n) => form.querySelector('#f-' + n).value.trim();
		const body = {login: v('login'), display_name: v('display_name'),
		              agency_id: v('agency_id'), role: v('role')};
		const regions = v('regions').split(/[\s,]+/).filter(Boolean)
			.map((x) => x.toUpperCase());
		if (regions.length)
			body.regions = regions;
		const btn = form.querySelector('button[type="submit"]');
		const r = await busy(btn, () => api.post('/v1/admin/persons', body));
		if (!ctx.alive())
			return;
		if (r.status === 201 && r.body) {
			for (const n of ['login', 'display_name', 'regions'])
				form.querySelector('#f-' + n).value = '';
			show(codeBox(t, r.body));
			announce(t('admin.code.title', {login: r.body.login}));
			load(true);
			return;
		}
		showProblem(form, r.status === 0 ?
			{type: 'urn:nrm:problem:network'} : r.body, r.status);
	});

	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'persons-h'},
		heading(2, t('admin.persons'), {id: 'persons-h'}), notice,
		list, h('div', {class: 'nrm-actions'}, more),
		heading(3, t('admin.create'), {id: 'create-h'}),
		para(t('admin.create.intro')), form);
	return {sec, load};
}

/* The one-time token of a key just made. */
function tokenBox(t, k) {
	const el = alert('warning', [
		h('strong', null, t('admin.token.title', {label: k.label})), h('br'),
		t('admin.token.text'),
		h('code', {class: 'utrecht-code nrm-mono nrm-token', id: 'key-token'},
		  k.token)]);
	el.setAttribute('tabindex', '-1');
	return el;
}

function keysSection(ctx) {
	const {t, api} = ctx;
	const state = {items: [], next: null};
	const list = h('div');
	const notice = h('div');
	const more = button(t('admin.keys.more'), {hidden: true,
		onclick: () => load(false)});

	function show(el) {
		clear(notice).append(el);
		el.focus();
	}

	async function revoke(k, btn) {
		const r = await busy(btn, () => api.post('/v1/admin/keys/'
			+ encodeURIComponent(k.id) + '/revoke', {}));
		if (!ctx.alive())
			return;
		if (r.status !== 200 || !r.body) {
			const f = failure(t, r);
			f.setAttribute('tabindex', '-1');
			show(f);
			return;
		}
		Object.assign(k, r.body);
		const a = alert('ok', t('admin.keys.revoked', {label: k.label}));
		a.setAttribute('tabindex', '-1');
		show(a);
		draw();
	}

	/* Ask first: the key's systems stop working at once. */
	function confirmRevoke(k) {
		const yes = button(t('admin.keys.confirm.yes'), {
			onclick: (e) => revoke(k, e.currentTarget)}, 'primary-action');
		const no = button(t('admin.keys.confirm.no'), {onclick: () => {
			clear(notice);
			const back = list.querySelector('[data-key="' + k.id + '"]');
			if (back)
				back.focus();
		}});
		const el = alert('warning', [
			h('strong', null, t('admin.keys.confirm.title',
			                    {label: k.label})), h('br'),
			t('admin.keys.confirm.text'),
			h('div', {class: 'utrecht-button-group nrm-actions'}, yes, no)]);
		el.setAttribute('tabindex', '-1');
		show(el);
	}

	function draw() {
		clear(list).append(table([
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
		], state.items, {caption: t('admin.keys.caption'),
		                 empty: t('admin.keys.none')}));
		more.hidden = !state.next;
	}

	const load = (fresh) => loadPage(ctx, {path: '/v1/admin/keys',
		q: new URLSearchParams({limit: '50'}), cursor: 'after',
		next: 'next_after', state, fresh, list, draw});

	const form = h('form', {class: 'nrm-form', novalidate: true,
	                        'aria-labelledby': 'key-create-h'},
		formAlert(),
		field('label', t('admin.keys.f.label'), {required: true,
			id: 'k-label', description: t('admin.keys.f.label.help'),
			attrs: {autocomplete: 'off'}}),
		select('role', t('admin.f.role'), ROLES.map((r) =>
			[r, code('role', r)]), {required: true, value: 'reporter',
			id: 'k-role'}),
		field('regions', t('admin.f.regions'), {id: 'k-regions',
			description: t('admin.f.regions.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		field('agency_id', t('admin.f.agency_id'), {required: true,
			id: 'k-agency_id', description: t('admin.f.agency_id.help'),
			value: ctx.session ? ctx.session.person.agency_id : '',
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('admin.keys.f.submit'), {type: 'submit'},
		         'primary-action')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const v = (n) => form.querySelector('#k-' + n).value.trim();
		const body = {label: v('label'), agency_id: v('agency_id'),
		              role: v('role')};
		const regions = v('regions').split(/[\s,]+/).filter(Boolean)
			.map((x) => x.toUpperCase());
		if (regions.length)
			body.regions = regions;
		const btn = form.querySelector('button[type="submit"]');
		const r = await busy(btn, () => api.post('/v1/admin/keys', body));
		if (!ctx.alive())
			return;
		if (r.status === 201 && r.body) {
			for (const n of ['label', 'regions'])
				form.querySelector('#k-' + n).value = '';
			show(tokenBox(t, r.body));
			announce(t('admin.token.title', {label: r.body.label}));
			load(true);
			return;
		}
		showProblem(form, r.status === 0 ?
			{type: 'urn:nrm:problem:network'} : r.body, r.status);
	});

	const sec = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'keys-h'},
		heading(2, t('admin.keys'), {id: 'keys-h'}),
		para(t('admin.keys.text')), notice,
		list, h('div', {class: 'nrm-actions'}, more),
		heading(3, t('admin.keys.create'), {id: 'key-create-h'}), form);
	return {sec, load};
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
