/*
 * screens/signal.js - the reporter's signal form (POST /v1/signals) as
 * intake decides: a minor (minor ticked, an age estimate under 18, or a
 * birth date under 18 at the time observed) never needs consent; an adult
 * who refuses or cannot consent becomes an anonymous notification, and
 * the form then hides AND clears every identifying field (names, birth
 * date, contact, account).  The server decides; the form only keeps what
 * it would refuse out of the request and shows its answer: problem+json
 * at the field it names, or the receipt.  The Idempotency-Key of a send is
 * kept (sessionStorage) until an answer arrives, so a retry after a
 * network error or a 503 can never make a second signal.
 */
import {h, heading, para, field, select, check, choices, button, alert,
        clear, checkedValues, announce} from '../dom.js';
import {showProblem, clearProblems, amsterdamNowLocal, amsterdamToRfc3339,
        problemCode} from '../i18n.js';
import {newKey} from '../api.js';
import {receiptView} from './receipts.js';

const KEY = 'nrm.signal.key';
const EXPLOITATION = ['sexual', 'labour', 'criminal', 'begging',
	'forced_marriage', 'illegal_adoption', 'surrogacy', 'organ_removal', 'other'];
const CONTROL = ['debt_bondage', 'documents_withheld', 'threats',
	'threats_against_family', 'physical_violence', 'sexual_violence',
	'psychological_abuse', 'isolation', 'restricted_movement',
	'wages_withheld', 'substance_dependency', 'deception',
	'abuse_of_vulnerability', 'excessive_hours', 'loverboy', 'other'];
const GENDER = ['female', 'male', 'non_binary', 'other', 'unknown'];
const CONSENT = ['given', 'refused', 'unable', 'not_required_minor'];
/* Identifying fields: never on an anonymous notification. */
const IDENTIFYING = ['f-subject-given_name', 'f-subject-family_name',
	'f-subject-birth_date', 'f-subject-contact-phone',
	'f-subject-contact-address', 'f-narrative'];

function pendingKey() {
	try {
		return sessionStorage.getItem(KEY);
	} catch (e) {
		return null;
	}
}

function setPendingKey(k) {
	try {
		if (k)
			sessionStorage.setItem(KEY, k);
		else
			sessionStorage.removeItem(KEY);
	} catch (e) {
		/* kept in memory only */
	}
}

/* Age in whole years on date `on` (YYYY-MM-DD) of someone born on `b`. */
function ageOn(b, on) {
	const [by, bm, bd] = b.split('-').map(Number);
	const [y, m, d] = on.split('-').map(Number);
	return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function build(t) {
	const opts = (prefix, list) => list.map((v) => [v, t(prefix + '.' + v)]);
	return h('form', {class: 'nrm-form', novalidate: true, id: 'signal-form'},
		h('div', {class: 'utrecht-alert utrecht-alert--error nrm-form-alert',
		          role: 'alert', tabindex: '-1', hidden: true}),
		para(t('signal.required_note')),
		h('fieldset', {class: 'utrecht-form-fieldset nrm-fieldset'},
		  h('legend', {class: 'utrecht-form-fieldset__legend'}, t('signal.sec.observation')),
		  field('observed_at', t('signal.observed_at'), {type: 'datetime-local',
			required: true, value: amsterdamNowLocal(),
			description: t('signal.observed_at.help')}),
		  field('location.municipality_code', t('signal.municipality'), {
			description: t('signal.municipality.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false', maxlength: '6'}}),
		  field('reporter_reference', t('signal.reference'), {
			description: t('signal.reference.help'),
			attrs: {autocomplete: 'off', maxlength: '100'}}),
		  field('cites_reference', t('signal.cites_reference'), {
			description: t('signal.cites_reference.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false',
			        maxlength: '20'}})),
		h('fieldset', {class: 'utrecht-form-fieldset nrm-fieldset'},
		  h('legend', {class: 'utrecht-form-fieldset__legend'}, t('signal.sec.age')),
		  check('subject.minor', t('signal.minor')),
		  field('subject.age_estimate', t('signal.age_estimate'), {type: 'number',
			attrs: {min: '0', max: '120', step: '1', inputmode: 'numeric'}}),
		  field('subject.birth_date', t('signal.birth_date'), {type: 'date'}),
		  choices('consent', t('signal.consent'), 'radio', opts('consent', CONSENT),
			{required: true, description: t('signal.consent.help')}),
		  h('div', {id: 'minor-note', hidden: true},
		    alert('info', t('signal.minor_note'))),
		  h('div', {id: 'anon-note', hidden: true},
		    alert('warning', t('signal.anonymous_note')))),
		h('fieldset', {class: 'utrecht-form-fieldset nrm-fieldset', id: 'person-set'},
		  h('legend', {class: 'utrecht-form-fieldset__legend'}, t('signal.sec.person')),
		  h('div', {class: 'nrm-columns', id: 'identifying'},
		    field('subject.given_name', t('signal.given_name'), {
			attrs: {autocomplete: 'off', maxlength: '200'}}),
		    field('subject.family_name', t('signal.family_name'), {
			attrs: {autocomplete: 'off', maxlength: '200'}}),
		    field('subject.contact.phone', t('signal.phone'), {type: 'tel',
			attrs: {autocomplete: 'off', maxlength: '40'}}),
		    field('subject.contact.address', t('signal.address'), {
			attrs: {autocomplete: 'off', maxlength: '500'}})),
		  h('div', {class: 'nrm-columns'},
		    select('subject.gender', t('signal.gender'), opts('gender', GENDER),
			{empty: t('signal.unknown_empty')}),
		    field('subject.nationality', t('signal.nationality'), {
			description: t('signal.nationality.help'),
			attrs: {autocomplete: 'off', maxlength: '2', spellcheck: 'false'}}),
		    field('subject.languages', t('signal.languages'), {
			description: t('signal.languages.help'),
			attrs: {autocomplete: 'off', spellcheck: 'false'}}))),
		choices('exploitation', t('signal.exploitation'), 'checkbox',
			opts('exploitation', EXPLOITATION), {required: true}),
		choices('control_means', t('signal.control_means'), 'checkbox',
			opts('control', CONTROL)),
		h('fieldset', {class: 'utrecht-form-fieldset nrm-fieldset'},
		  h('legend', {class: 'utrecht-form-fieldset__legend'}, t('signal.sec.urgency')),
		  check('urgency.immediate_danger', t('signal.immediate_danger')),
		  check('urgency.needs_shelter', t('signal.needs_shelter'))),
		h('div', {id: 'narrative-box'},
		  field('narrative', t('signal.narrative'), {multiline: true, rows: 6,
			description: t('signal.narrative.help'),
			attrs: {maxlength: '8000'}})),
		h('div', {class: 'nrm-status', id: 'send-status', role: 'status',
		          'aria-live': 'polite'}),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('signal.submit'), {type: 'submit'}, 'primary-action')));
}

/* The request body from the form; empty fields are left out. */
function body(form) {
	const v = (id) => form.querySelector('#' + id).value.trim();
	const on = (id) => form.querySelector('#' + id).checked;
	const b = {observed_at: amsterdamToRfc3339(v('f-observed_at')) ||
	                        v('f-observed_at')};
	if (v('f-location-municipality_code'))
		b.location = {municipality_code: v('f-location-municipality_code').toUpperCase()};
	if (v('f-reporter_reference'))
		b.reporter_reference = v('f-reporter_reference');
	if (v('f-cites_reference'))
		b.cites_reference = v('f-cites_reference');
	const s = {};
	const put = (k, id) => {
		if (v(id))
			s[k] = v(id);
	};
	put('given_name', 'f-subject-given_name');
	put('family_name', 'f-subject-family_name');
	put('birth_date', 'f-subject-birth_date');
	if (v('f-subject-age_estimate')) {
		const n = Number(v('f-subject-age_estimate'));
		s.age_estimate = Number.isInteger(n) ? n : v('f-subject-age_estimate');
	}
	if (on('f-subject-minor'))
		s.minor = true;
	put('gender', 'f-subject-gender');
	put('nationality', 'f-subject-nationality');
	if (v('f-subject-languages'))
		s.languages = v('f-subject-languages').split(/[\s,;]+/).filter(Boolean);
	const c = {};
	if (v('f-subject-contact-phone'))
		c.phone = v('f-subject-contact-phone');
	if (v('f-subject-contact-address'))
		c.address = v('f-subject-contact-address');
	if (Object.keys(c).length)
		s.contact = c;
	b.subject = s;
	b.exploitation = checkedValues(form, 'exploitation');
	const cm = checkedValues(form, 'control_means');
	if (cm.length)
		b.control_means = cm;
	b.urgency = {immediate_danger: on('f-urgency-immediate_danger'),
	             needs_shelter: on('f-urgency-needs_shelter')};
	const consent = checkedValues(form, 'consent')[0];
	if (consent)
		b.consent = consent;
	if (form.querySelector('#f-narrative').value.trim())
		b.narrative = form.querySelector('#f-narrative').value;
	return b;
}

/* Apply intake's rules to what the form shows. */
function sync(form) {
	const v = (id) => form.querySelector('#' + id).value.trim();
	const observed = (v('f-observed_at') || amsterdamNowLocal()).slice(0, 10);
	const age = v('f-subject-age_estimate');
	const birth = v('f-subject-birth_date');
	const minor = form.querySelector('#f-subject-minor').checked ||
		(age !== '' && Number(age) < 18) ||
		(/^\d{4}-\d{2}-\d{2}$/.test(birth) && ageOn(birth, observed) < 18);
	const consent = checkedValues(form, 'consent')[0];
	const nr = form.querySelector('[data-choice="not_required_minor"]');
	nr.hidden = !minor;
	if (!minor && consent === 'not_required_minor')
		nr.querySelector('input').checked = false;
	const anon = !minor && (consent === 'refused' || consent === 'unable');
	form.querySelector('#minor-note').hidden = !minor;
	form.querySelector('#anon-note').hidden = !anon;
	for (const id of IDENTIFYING) {
		const input = form.querySelector('#' + id);
		const wrap = input.closest('.nrm-field');
		if (anon && input.value !== '')
			input.value = '';
		wrap.hidden = anon;
	}
	form.querySelector('#narrative-box').hidden = anon;
	form.dataset.mode = anon ? 'notification' : minor ? 'minor' : 'case';
}

function showReceipt(root, ctx, r) {
	const {t} = ctx;
	clear(root);
	root.append(
		heading(1, t('receipt.title')),
		alert('ok', r.notification_only ? t('receipt.ok.notification')
		                                : t('receipt.ok.case')),
		receiptView(r, t, 'receipt-'),
		h('div', {class: 'utrecht-button-group nrm-actions'},
		  button(t('signal.another'), {onclick: () => {
			clear(root);
			render(root, ctx);
		  }}, 'primary-action'),
		  h('a', {class: 'utrecht-link utrecht-link--html-a', href: '#/receipts'},
		    t('nav.receipts'))));
	const h1 = root.querySelector('h1');
	h1.setAttribute('tabindex', '-1');
	h1.focus();
	announce(t('receipt.title'));
}

export function render(root, ctx) {
	const {t, api} = ctx;
	const form = build(t);
	root.append(heading(1, t('signal.title')), para(t('signal.intro')), form);
	form.addEventListener('input', () => sync(form));
	form.addEventListener('change', () => sync(form));
	sync(form);
	const status = form.querySelector('#send-status');
	if (pendingKey())
		status.append(alert('warning', t('signal.pending')));
	let busy = false;
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (busy)
			return;
		sync(form);
		clearProblems(form);
		clear(status);
		const b = body(form);
		let key = pendingKey();
		if (!key) {
			key = newKey();
			setPendingKey(key);
		}
		busy = true;
		const submit = form.querySelector('button[type="submit"]');
		submit.setAttribute('aria-disabled', 'true');
		status.append(para(t('signal.sending')));
		const r = await api.post('/v1/signals', b,
			{headers: {'Idempotency-Key': key}});
		busy = false;
		submit.removeAttribute('aria-disabled');
		clear(status);
		/* keep the key while the signal may exist without our knowing */
		const keep = r.status === 0 || r.status === 409 || r.status >= 500 ||
			r.expired;
		if (!keep)
			setPendingKey(null);
		if (r.status === 201 && r.body) {
			if (ctx.alive())
				showReceipt(root, ctx, r.body);
			return;
		}
		if (r.expired || !ctx.alive())
			return;
		if (r.status === 0) {
			status.append(alert('error', t('signal.network')));
			return;
		}
		if (r.status >= 500)
			status.append(alert('error', t('signal.retry')));
		showProblem(form, r.body, r.status);
		if (r.body && problemCode(r.body) === 'idempotency')
			setPendingKey(null);
	});
}
