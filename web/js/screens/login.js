/*
 * screens/login.js - log in with login, password and the code of the
 * authenticator app, or a recovery code instead of the code (POST
 * /v1/session).  loginForm() is also the body of the shell's "session
 * expired" dialog.  Every refusal is the server's one "login failed".
 */
import {h, heading, para, field, choices, button, link} from '../dom.js';
import {showProblem, clearProblems} from '../i18n.js';

let lastLogin = '';

/* Remember the login of a fresh enrolment for the login screen. */
export function rememberLogin(l) {
	lastLogin = l || '';
}

export function loginForm(ctx, opts = {}) {
	const {t, api} = ctx;
	const p = opts.idPrefix || '';
	const form = h('form', {class: 'nrm-form', novalidate: true},
		h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
		          role: 'alert', tabindex: '-1', hidden: true}),
		field('login', t('login.login'), {id: p + 'f-login', required: true,
			value: opts.login || lastLogin,
			attrs: {autocomplete: 'username', autocapitalize: 'none',
			        spellcheck: 'false'}}),
		field('password', t('login.password'), {id: p + 'f-password',
			type: 'password', required: true,
			attrs: {autocomplete: 'current-password'}}),
		choices('method', t('login.method'), 'radio', [
			['totp', t('login.method.totp')],
			['recovery', t('login.method.recovery')]],
		{id: p + 'f-method'}),
		field('totp', t('login.totp'), {id: p + 'f-totp',
			description: t('login.totp.help'),
			attrs: {autocomplete: 'one-time-code', inputmode: 'numeric',
			        maxlength: '6', pattern: '[0-9]{6}'}}),
		field('recovery_code', t('login.recovery'), {
			id: p + 'f-recovery_code',
			description: t('login.recovery.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('login.submit'), {type: 'submit'}, 'primary-action')));
	const totp = form.querySelector('[data-field="totp"]');
	const rec = form.querySelector('[data-field="recovery_code"]');
	const method = () => form.querySelector(
		'input[name="method"]:checked').value;
	const sync = () => {
		totp.hidden = method() !== 'totp';
		rec.hidden = method() !== 'recovery';
	};
	form.querySelector('#' + p + 'f-method-totp').checked = true;
	form.addEventListener('change', sync);
	sync();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearProblems(form);
		const val = (n) => form.querySelector('#' + p + 'f-' + n).value;
		const body = {login: val('login').trim(), password: val('password')};
		if (method() === 'totp')
			body.totp = val('totp').trim();
		else
			body.recovery_code = val('recovery_code').trim();
		const submit = form.querySelector('button[type="submit"]');
		submit.disabled = true;
		const r = await api.post('/v1/session', body, {public: true});
		submit.disabled = false;
		if (r.status === 201 && r.body) {
			ctx.onLogin(r.body);
			return;
		}
		form.querySelector('#' + p + 'f-password').value = '';
		if (r.status === 401)
			showProblem(form, {type: 'urn:nrm:problem:login_failed'}, 401);
		else if (r.status === 0)
			showProblem(form, {type: 'urn:nrm:problem:network'}, 0);
		else
			showProblem(form, r.body, r.status);
	});
	return form;
}

export function render(root, ctx) {
	const {t} = ctx;
	root.append(
		heading(1, t('login.title')),
		para(t('login.intro')),
		loginForm(ctx),
		para([t('login.no_account') + ' ',
		      link('#/enrol', t('login.to_enrol'))]));
}
