/*
 * main.js - the console's shell: reads the session (GET /v1/session),
 * draws the header (name, role, navigation for the role, language switch,
 * logout), routes by location.hash to one screen module at a time
 * (routes.js; each exports render(root, ctx)), and runs the "session
 * expired" flow: the values typed on the screen are kept, a login dialog
 * asks for the password and code again, and the screen is drawn anew with
 * the values put back.
 */
import {api, onExpired, setCsrf, hasCsrf} from './api.js';
import {routes} from './routes.js';
import {t, getLang, setLang, languages} from './i18n.js';
import {h, clear, heading, para, button, alert, link} from './dom.js';
import {loginForm} from './screens/login.js';

const state = {
	session: null,		/* the Session answer, or null */
	gen: 0,			/* the render generation (for ctx.alive) */
	leave: [],		/* callbacks run when the screen is left */
	dialog: null,		/* the open session-expired dialog */
	route: null		/* {name, params} of the current screen */
};

const role = () => (state.session ? state.session.person.role : null);

function allowed(r, name) {
	const def = routes[name];
	return def && (def.public || (r && def.roles && def.roles.includes(r)));
}

function home() {
	const r = role();
	if (!r)
		return '#/login';
	for (const [name, def] of Object.entries(routes))
		if (def.nav && !def.public && def.roles.includes(r))
			return '#/' + name;
	return '#/api';
}

export function navigate(hash) {
	if (location.hash === hash)
		route();
	else
		location.hash = hash;
}

/* "#/case/<id>?purpose=care" -> {name: 'case', params: {id, purpose}} */
function parseHash() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, query] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	const params = Object.fromEntries(new URLSearchParams(query || ''));
	if (parts[1])
		params.id = parts[1];
	return {name: parts[0] || '', params};
}

function header() {
	const el = document.getElementById('header');
	clear(el);
	const r = role();
	const cur = state.route ? state.route.name : '';
	const navItems = Object.entries(routes).filter(([name, def]) =>
		def.nav && (def.public ? true : r && def.roles.includes(r)));
	const other = languages().find((l) => l !== getLang());
	el.append(
		h('div', {class: 'nrm-brand'},
		  h('a', {class: 'nrm-brand__link', href: home()},
		    h('span', {class: 'nrm-brand__name'}, 'nrm'),
		    h('span', {class: 'nrm-brand__tag'}, t('app.name')))),
		h('nav', {class: 'nrm-nav', 'aria-label': t('nav.label')},
		  h('ul', {class: 'nrm-nav__list'}, navItems.map(([name, def]) =>
			h('li', {class: 'nrm-nav__item'},
			  link('#/' + name, t(def.nav), {
				class: 'utrecht-link utrecht-link--html-a nrm-nav__link',
				'aria-current': name === cur ? 'page' : null,
				/* the current screen's link starts it afresh */
				onclick: (ev) => {
					if (location.hash === '#/' + name) {
						ev.preventDefault();
						state.focusOnRender = true;
						route();
					}
				}}))))),
		h('div', {class: 'nrm-person'},
		  state.session ? h('p', {class: 'nrm-person__who', id: 'who'},
			h('span', {class: 'nrm-person__name'},
			  state.session.person.display_name),
			h('span', {class: 'nrm-person__role'},
			  t('role.' + r) + (state.session.person.regions &&
			   state.session.person.regions.length ? ' · ' +
			   state.session.person.regions.join(', ') : ''))) : null,
		  button(t('lang.switch_to.' + other), {
			lang: other, class: 'utrecht-button utrecht-button--html-button utrecht-button--subtle nrm-lang',
			onclick: () => switchLanguage(other)}),
		  state.session ? button(t('nav.logout'), {
			class: 'utrecht-button utrecht-button--html-button utrecht-button--secondary-action',
			onclick: logout}) : null));
	const skip = document.querySelector('.nrm-skip');
	if (skip)
		skip.textContent = t('nav.skip');
	const foot = document.getElementById('footer');
	clear(foot).append(para(t('app.footer'), {class: 'utrecht-paragraph nrm-footer__text'}));
}

/* The values typed on the screen, by element id (never passwords). */
function snapshot(root) {
	const vals = {};
	if (!root)
		return vals;
	for (const e of root.querySelectorAll('input[id], select[id], textarea[id]')) {
		if (e.type === 'password' || e.dataset.keep === 'no')
			continue;
		vals[e.id] = e.type === 'checkbox' || e.type === 'radio' ?
			{checked: e.checked} : {value: e.value};
	}
	return vals;
}

/* Put typed values back in order, firing the events screens listen to. */
function restore(root, vals) {
	for (const [id, v] of Object.entries(vals || {})) {
		const e = root.querySelector('#' + CSS.escape(id));
		if (!e)
			continue;
		if ('checked' in v) {
			if (e.checked === v.checked)
				continue;
			e.checked = v.checked;
		} else {
			if (e.value === v.value)
				continue;
			e.value = v.value;
		}
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));
	}
}

function screenRoot() {
	return document.querySelector('#main > [data-screen]');
}

function leave() {
	state.gen++;
	const cbs = state.leave;
	state.leave = [];
	for (const f of cbs) {
		try {
			f();
		} catch (e) {
			/* a screen's clean-up must not stop the next screen */
		}
	}
}

async function route(restoreVals) {
	const {name, params} = parseHash();
	if (!name || !routes[name]) {
		navigate(home());
		return;
	}
	const def = routes[name];
	if (!def.public && !state.session) {
		sessionStorage.setItem('nrm.after_login', location.hash);
		navigate('#/login');
		return;
	}
	if ((name === 'login' || name === 'enrol') && state.session) {
		navigate(home());
		return;
	}
	leave();
	const gen = state.gen;
	state.route = {name, params};
	header();
	const main = document.getElementById('main');
	clear(main);
	const root = h('div', {class: 'nrm-screen', dataset: {screen: name}});
	main.append(root);
	if (!allowed(role(), name)) {
		root.append(heading(1, t('err.no_access.title')),
		            alert('warning', t('err.no_access')));
		return;
	}
	document.title = t('title.' + name) + ' — nrm';
	const ctx = {
		api, t, session: state.session, navigate, params,
		alive: () => gen === state.gen,
		onLeave: (f) => state.leave.push(f),
		onLogin: loggedIn,
		lang: getLang()
	};
	try {
		const mod = await import(def.module);
		if (gen !== state.gen)
			return;
		await mod.render(root, ctx);
	} catch (e) {
		if (gen !== state.gen)
			return;
		clear(root).append(heading(1, t('title.' + name)),
		                   alert('error', t('err.screen_failed')));
		console.warn('screen', name, e && e.message);
		return;
	}
	if (gen !== state.gen)
		return;
	if (restoreVals)
		restore(root, restoreVals);
	if (state.focusOnRender) {
		state.focusOnRender = false;
		const h1 = root.querySelector('h1');
		if (h1) {
			h1.setAttribute('tabindex', '-1');
			h1.focus();
		}
	}
}

function switchLanguage(l) {
	const vals = snapshot(screenRoot());
	setLang(l);
	route(vals).then(() => {
		const b = document.querySelector('.nrm-lang');
		if (b)
			b.focus();
	});
}

/* After a login (screen or dialog): keep the session, go on. */
function loggedIn(answer) {
	setCsrf(answer.csrf_token);
	const before = state.session;
	state.session = {person: answer.person,
	                 idle_expires_at: answer.idle_expires_at,
	                 expires_at: answer.expires_at};
	if (state.dialog) {
		const same = before && before.person.id === answer.person.id;
		const vals = same ? state.dialog.vals : null;
		state.dialog.el.close();
		state.dialog.el.remove();
		state.dialog = null;
		if (same)
			route(vals);
		else
			navigate(home());
		return;
	}
	const next = sessionStorage.getItem('nrm.after_login');
	sessionStorage.removeItem('nrm.after_login');
	state.focusOnRender = true;
	navigate(next && next !== '#/login' ? next : home());
}

function expired() {
	if (state.dialog || !state.session)
		return;
	leave();
	const vals = snapshot(screenRoot());
	const el = h('dialog', {class: 'nrm-dialog', 'aria-labelledby': 'expired-title'},
		heading(2, t('expired.title'), {id: 'expired-title'}),
		para(t('expired.text')),
		loginForm({api, t, onLogin: loggedIn}, {
			login: state.session.person.login, idPrefix: 'x-'}),
		button(t('expired.leave'), {onclick: () => {
			el.close();
			el.remove();
			state.dialog = null;
			state.session = null;
			setCsrf(null);
			navigate('#/login');
		}}));
	el.addEventListener('cancel', (e) => e.preventDefault());
	document.body.append(el);
	state.dialog = {el, vals};
	el.showModal();
	const pw = el.querySelector('input[type="password"]');
	if (pw)
		pw.focus();
}

async function logout() {
	await api.del('/v1/session', {public: true});
	setCsrf(null);
	try {
		sessionStorage.clear();
	} catch (e) {
		/* nothing kept */
	}
	state.session = null;
	state.focusOnRender = true;
	navigate('#/login');
}

async function boot() {
	setLang(getLang());
	onExpired(expired);
	/*
	 * Ask who is logged in only when this tab logged in (it holds the
	 * CSRF token): a new tab without it could make no unsafe request
	 * anyway, and a needless 401 is not asked for.
	 */
	if (hasCsrf()) {
		const r = await api.get('/v1/session', {public: true});
		if (r.status === 200 && r.body && r.body.person)
			state.session = r.body;
		else
			setCsrf(null);
	}
	window.addEventListener('hashchange', () => {
		state.focusOnRender = true;
		route();
	});
	route();
}

boot();
