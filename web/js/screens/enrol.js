/*
 * screens/enrol.js - enrolment with a one-time enrolment code (POST
 * /v1/enrol): choose a password (the policy's 422 shown at the field),
 * then the authenticator secret as a QR code drawn from the answer's
 * otpauth_qr matrix (SVG rects, no data: URL: the CSP forbids one), the
 * otpauth:// URI as text, and the ten recovery codes, shown this once.
 */
import {h, svg, heading, para, field, button, alert, clear} from '../dom.js';
import {showProblem, clearProblems} from '../i18n.js';
import {rememberLogin} from './login.js';

/* The QR matrix {size, rows} as an SVG image with a 4-module quiet zone. */
export function qrSvg(qr, label) {
	const n = qr.size;
	const q = 4;
	const img = svg('svg', {
		class: 'nrm-qr', viewBox: `0 0 ${n + 2 * q} ${n + 2 * q}`,
		role: 'img', 'aria-label': label, 'shape-rendering': 'crispEdges'},
	svg('rect', {x: 0, y: 0, width: n + 2 * q, height: n + 2 * q,
	             fill: '#fff'}));
	qr.rows.forEach((row, y) => {
		/* one rect per run of dark modules in a row */
		for (let x = 0; x < n; x++) {
			if (row[x] !== '1')
				continue;
			let e = x;
			while (e + 1 < n && row[e + 1] === '1')
				e++;
			img.append(svg('rect', {x: x + q, y: y + q, width: e - x + 1,
			                        height: 1, fill: '#000'}));
			x = e;
		}
	});
	return img;
}

function done(root, ctx, ans) {
	const {t} = ctx;
	rememberLogin(ans.login);
	clear(root);
	const qr = ans.otpauth_qr && Array.isArray(ans.otpauth_qr.rows) ?
		qrSvg(ans.otpauth_qr, t('enrol.qr.label')) : null;
	root.append(
		heading(1, t('enrol.done.title')),
		alert('ok', t('enrol.done.text', {login: ans.login})),
		heading(2, t('enrol.qr.title')),
		para(t('enrol.qr.text')),
		qr ? h('div', {class: 'nrm-qr-box'}, qr)
		   : alert('warning', t('enrol.qr.missing')),
		para(t('enrol.uri.text')),
		h('p', {class: 'utrecht-paragraph nrm-mono'},
		  h('code', {class: 'utrecht-code', id: 'otpauth-uri',
		             dataset: {otpauth: ''}}, ans.otpauth_uri)),
		heading(2, t('enrol.codes.title')),
		alert('warning', t('enrol.codes.text')),
		h('ol', {class: 'utrecht-ordered-list nrm-codes', id: 'recovery-codes'},
		  ans.recovery_codes.map((c) =>
			h('li', {class: 'utrecht-ordered-list__item'},
			  h('code', {class: 'utrecht-code'}, c)))),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('enrol.to_login'), {onclick: () =>
			ctx.navigate('#/login')}, 'primary-action')));
	const h1 = root.querySelector('h1');
	h1.setAttribute('tabindex', '-1');
	h1.focus();
}

export function render(root, ctx) {
	const {t, api} = ctx;
	const form = h('form', {class: 'nrm-form', novalidate: true},
		h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
		          role: 'alert', tabindex: '-1', hidden: true}),
		field('enrolment_code', t('enrol.code'), {required: true,
			description: t('enrol.code.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false',
			        autocapitalize: 'characters'}}),
		field('password', t('enrol.password'), {type: 'password',
			required: true, description: t('enrol.password.help'),
			attrs: {autocomplete: 'new-password'}}),
		field('password2', t('enrol.password2'), {type: 'password',
			required: true, attrs: {autocomplete: 'new-password'}}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('enrol.submit'), {type: 'submit'}, 'primary-action')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const code = form.querySelector('#f-enrolment_code').value
			.replace(/\s+/g, '');
		const pw = form.querySelector('#f-password').value;
		if (pw !== form.querySelector('#f-password2').value) {
			showProblem(form, {type: 'urn:nrm:problem:mismatch',
			                   field: 'password2'}, 0);
			return;
		}
		const submit = form.querySelector('button[type="submit"]');
		submit.disabled = true;
		submit.setAttribute('aria-busy', 'true');
		const r = await api.post('/v1/enrol',
			{enrolment_code: code, password: pw}, {public: true});
		submit.disabled = false;
		submit.removeAttribute('aria-busy');
		if (r.status === 201 && r.body) {
			done(root, ctx, r.body);
			return;
		}
		showProblem(form, r.status === 0 ?
			{type: 'urn:nrm:problem:network'} : r.body, r.status);
	});
	root.append(heading(1, t('enrol.title')), para(t('enrol.intro')), form,
	            para(h('a', {class: 'utrecht-link utrecht-link--html-a',
	                         href: '#/login'}, t('enrol.to_login'))));
}
