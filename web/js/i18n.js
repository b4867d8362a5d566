/*
 * i18n.js - the person's language (nl by default, en), kept in
 * localStorage; t(key, vars) looks the key up in web/i18n/<lang>.js and
 * fills {name} placeholders (as text: the caller puts the result in a text
 * node).  Dates and times are always shown in Europe/Amsterdam.  A
 * problem+json answer is turned into a message in the person's language
 * and the form field it names (showProblem), never into the server's
 * English detail alone.
 */
import nl from '../i18n/nl.js';
import en from '../i18n/en.js';
import {fieldId} from './dom.js';

const CATALOGUES = {nl, en};
const KEY = 'nrm.lang';
export const TZ = 'Europe/Amsterdam';

let lang = (() => {
	try {
		const l = localStorage.getItem(KEY);
		return CATALOGUES[l] ? l : 'nl';
	} catch (e) {
		return 'nl';
	}
})();

export const languages = () => Object.keys(CATALOGUES);
export const getLang = () => lang;

export function setLang(l) {
	if (!CATALOGUES[l])
		return;
	lang = l;
	try {
		localStorage.setItem(KEY, l);
	} catch (e) {
		/* private mode: the choice lasts for this page */
	}
	document.documentElement.lang = l;
}

/* Is there a message for key (in nl, the complete catalogue)? */
export const has = (key) => key in CATALOGUES[lang] || key in nl;

export function t(key, vars) {
	let s = CATALOGUES[lang][key];
	if (s === undefined)
		s = nl[key];
	if (s === undefined)
		return key;
	if (vars)
		s = s.replace(/\{(\w+)\}/g, (m, k) =>
			vars[k] === undefined || vars[k] === null ? m : String(vars[k]));
	return s;
}

/* The label of an enumerated code: t(prefix + '.' + code), else the code. */
export function code(prefix, value) {
	if (value === null || value === undefined || value === '')
		return t('common.none');
	const k = prefix + '.' + value;
	return has(k) ? t(k) : String(value);
}

const locale = () => (lang === 'nl' ? 'nl-NL' : 'en-GB');

export function dateTime(iso) {
	if (!iso)
		return t('common.none');
	const d = new Date(iso);
	if (isNaN(d))
		return String(iso);
	return new Intl.DateTimeFormat(locale(), {
		timeZone: TZ, dateStyle: 'medium', timeStyle: 'short'}).format(d);
}

/* A calendar date ("2024-05-01") as a date, not shifted by a zone. */
export function date(ymd) {
	if (!ymd)
		return t('common.none');
	const d = new Date(ymd + 'T12:00:00Z');
	if (isNaN(d))
		return String(ymd);
	return new Intl.DateTimeFormat(locale(), {
		timeZone: 'UTC', dateStyle: 'medium'}).format(d);
}

/* Offset of Europe/Amsterdam at instant ms, in minutes. */
function offsetAt(ms) {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone: TZ, hourCycle: 'h23', year: 'numeric', month: '2-digit',
		day: '2-digit', hour: '2-digit', minute: '2-digit',
		second: '2-digit'}).formatToParts(new Date(ms));
	const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
	const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour,
	                       +p.minute, +p.second);
	return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

/*
 * A datetime-local value ("2024-05-14T21:30"), read as Amsterdam wall time,
 * as RFC 3339 with Amsterdam's offset ("2024-05-14T21:30:00+02:00").
 */
export function amsterdamToRfc3339(local) {
	const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/
		.exec(local || '');
	if (!m)
		return null;
	const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
	let off = offsetAt(wall);
	off = offsetAt(wall - off * 60000);
	const sign = off < 0 ? '-' : '+';
	const a = Math.abs(off);
	const pad = (n) => String(n).padStart(2, '0');
	return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] || '00'}` +
	       `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/* Now as a datetime-local value in Amsterdam wall time. */
export function amsterdamNowLocal() {
	const now = Date.now();
	const d = new Date(now + offsetAt(now) * 60000);
	return d.toISOString().slice(0, 16);
}

/* Today's date in Amsterdam (YYYY-MM-DD). */
export const amsterdamToday = () => amsterdamNowLocal().slice(0, 10);

/* Time left until iso (negative: overdue), as "1 u 05 min" / "1 h 05 min". */
export function countdown(iso, now = Date.now()) {
	const ms = new Date(iso) - now;
	const late = ms < 0;
	let s = Math.floor(Math.abs(ms) / 1000);
	const d = Math.floor(s / 86400);
	s -= d * 86400;
	const hh = Math.floor(s / 3600);
	const mm = Math.floor((s % 3600) / 60);
	const ss = s % 60;
	const pad = (n) => String(n).padStart(2, '0');
	const span = (d ? t('time.days', {n: d}) + ' ' : '') +
	             `${hh}:${pad(mm)}:${pad(ss)}`;
	return {late, text: t(late ? 'time.overdue' : 'time.left', {span})};
}

/* The problem's code: "urn:nrm:problem:validation" -> "validation". */
export const problemCode = (p) =>
	(p && typeof p.type === 'string' ? p.type.split(':').pop() : 'internal');

/*
 * A problem's message in the person's language: the most specific of
 * err.<field>.<code>, err.<field>, err.<code>; the field's own catalogue
 * entry for a field name with an index ("exploitation[1]") is the array's.
 */
export function problemMessage(p, status) {
	const c = p && p.type ? problemCode(p) : 'status' + status;
	const f = p && typeof p.field === 'string' ?
		p.field.replace(/\[\d+\]/g, '') : null;
	for (const k of [f && `err.${f}.${c}`, f && `err.${f}`, `err.${c}`])
		if (k && has(k))
			return t(k);
	return t('err.generic', {status: status || (p && p.status) || '?'});
}

/*
 * Show problem p (answer status) on form: the message at the named field
 * (aria-invalid, described by the message, focused) or, with no such field,
 * in the form's summary box (.nrm-form-alert).  Returns the message.
 */
export function showProblem(form, p, status) {
	clearProblems(form);
	const msg = problemMessage(p, status);
	const detail = p && p.detail ? t('err.detail', {detail: p.detail}) : '';
	const name = p && typeof p.field === 'string' ? p.field : null;
	const wrapOf = name && [...form.querySelectorAll('[data-field]')]
		.find((e) => e.dataset.field === name.replace(/\[\d+\]$/, ''));
	const slot = name && (form.querySelector('#' + fieldId(name) + '-err') ||
		(wrapOf && wrapOf.querySelector('.nrm-error')));
	if (slot) {
		slot.hidden = false;
		slot.textContent = msg;
		const wrap = slot.closest('.utrecht-form-field, fieldset');
		if (wrap)
			wrap.classList.add('utrecht-form-field--invalid');
		const input = form.querySelector('#' + fieldId(name)) ||
			(wrapOf && (wrapOf.matches('fieldset') ? wrapOf :
			 wrapOf.querySelector('input, select, textarea')));
		if (input) {
			input.setAttribute('aria-invalid', 'true');
			const by = (input.getAttribute('aria-describedby') || '')
				.split(' ').filter(Boolean);
			by.push(slot.id);
			input.setAttribute('aria-describedby', by.join(' '));
			const focus = input.matches('fieldset') ?
				input.querySelector('input') : input;
			if (focus)
				focus.focus();
		}
	}
	const box = form.querySelector('.nrm-form-alert');
	if (box) {
		box.hidden = false;
		box.textContent = '';
		box.appendChild(document.createTextNode(
			slot ? t('err.at_field') + ' ' + msg : msg));
		if (detail) {
			box.appendChild(document.createElement('br'));
			box.appendChild(document.createTextNode(detail));
		}
		if (!slot)
			box.focus();
	}
	return msg;
}

export function clearProblems(form) {
	for (const e of form.querySelectorAll('.nrm-error')) {
		e.hidden = true;
		e.textContent = '';
	}
	for (const e of form.querySelectorAll('.utrecht-form-field--invalid'))
		e.classList.remove('utrecht-form-field--invalid');
	for (const e of form.querySelectorAll('[aria-invalid]')) {
		e.removeAttribute('aria-invalid');
		const by = (e.getAttribute('aria-describedby') || '').split(' ')
			.filter((x) => x && !x.endsWith('-err'));
		if (by.length)
			e.setAttribute('aria-describedby', by.join(' '));
		else
			e.removeAttribute('aria-describedby');
	}
	const box = form.querySelector('.nrm-form-alert');
	if (box) {
		box.hidden = true;
		box.textContent = '';
	}
}
