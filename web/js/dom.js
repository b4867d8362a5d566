/*
 * dom.js - the only way the console builds markup.  h() makes an element
 * from a tag, attributes and children; strings and numbers become text
 * nodes (createTextNode), so server text is never parsed as HTML.  There is
 * no innerHTML anywhere in the console.  Form helpers (field, select,
 * radios, checks) make labelled Utrecht form fields whose input id is
 * derived from the API field name, so a problem+json `field` finds its input.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/* Attach attributes and children to el; on* keys become listeners. */
function dress(el, attrs, kids) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2).toLowerCase(), v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else if (k === 'value' || k === 'checked' || k === 'selected')
			el[k] = v;
		else
			el.setAttribute(k === 'className' ? 'class' : k,
			                v === true ? '' : String(v));
	}
	append(el, kids);
	return el;
}

/* Append children: nodes as they are, strings and numbers as text. */
export function append(el, kids) {
	for (const c of [kids].flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		el.appendChild(c instanceof Node ? c
		               : document.createTextNode(String(c)));
	}
	return el;
}

export function h(tag, attrs, ...kids) {
	return dress(document.createElement(tag), attrs, kids);
}

export function svg(tag, attrs, ...kids) {
	return dress(document.createElementNS(SVG_NS, tag), attrs, kids);
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	return el;
}

export function text(el, s) {
	el.textContent = s === null || s === undefined ? '' : String(s);
	return el;
}

/* The input id of an API field: "subject.birth_date" -> "f-subject-birth_date". */
export function fieldId(name) {
	return 'f-' + name.replace(/\[\d+\]$/, '').replace(/[^A-Za-z0-9_-]/g, '-');
}

/* Short constructors of Utrecht components. */
export const heading = (n, s, attrs) =>
	h('h' + n, {class: 'utrecht-heading-' + n, ...attrs}, s);
export const para = (s, attrs) =>
	h('p', {class: 'utrecht-paragraph', ...attrs}, s);
export const link = (href, s, attrs) =>
	h('a', {class: 'utrecht-link utrecht-link--html-a', href, ...attrs}, s);

export function button(label, attrs, kind) {
	return h('button', {
		type: 'button',
		class: 'utrecht-button utrecht-button--html-button utrecht-button--'
		       + (kind || 'secondary-action'),
		...attrs
	}, label);
}

/* An Utrecht alert; kind is info, ok, warning or error. */
export function alert(kind, kids, attrs) {
	return h('div', {
		class: 'utrecht-alert utrecht-alert--' + kind + ' nrm-alert',
		role: kind === 'error' || kind === 'warning' ? 'alert' : 'status',
		...attrs
	}, h('div', {class: 'utrecht-alert__content'},
	     h('div', {class: 'utrecht-alert__message'}, kids)));
}

/* A form field (label, optional description, control, error slot). */
function wrap(name, label, control, opts) {
	const id = control.id;
	const desc = opts.description ?
		h('div', {class: 'utrecht-form-field-description',
		          id: id + '-desc'}, opts.description) : null;
	if (desc)
		control.setAttribute('aria-describedby', id + '-desc');
	const inline = opts.inline;
	return h('div', {
		class: 'utrecht-form-field nrm-field'
		       + (inline ? ' utrecht-form-field--checkbox' : ''),
		dataset: {field: name}
	},
	inline ? control : null,
	h('div', {class: 'utrecht-form-field__label' + (inline ?
		' utrecht-form-field__label--checkbox' : '')},
	  h('label', {class: 'utrecht-form-label' + (inline ?
		' utrecht-form-label--checkbox' : ''), for: id}, label),
	  opts.required ? h('span', {class: 'nrm-required', 'aria-hidden': 'true'}, ' *') : null),
	desc,
	inline ? null : h('div', {class: 'utrecht-form-field__input'}, control),
	h('div', {class: 'utrecht-form-field-error-message nrm-error',
	          id: id + '-err', hidden: true}));
}

/*
 * field(name, label, opts): a textbox (opts.type text/date/number/...,
 * opts.multiline for a textarea).  name is the API field.
 */
export function field(name, label, opts = {}) {
	const id = opts.id || fieldId(name);
	let control;
	if (opts.multiline)
		control = h('textarea', {
			class: 'utrecht-textarea utrecht-textarea--html-textarea',
			id, name, rows: opts.rows || 5, ...opts.attrs});
	else
		control = h('input', {
			class: 'utrecht-textbox utrecht-textbox--html-input',
			id, name, type: opts.type || 'text', ...opts.attrs});
	if (opts.required)
		control.required = true;
	if (opts.value !== undefined)
		control.value = opts.value;
	return wrap(name, label, control, opts);
}

/* A select of [value, label] pairs (a first empty option if opts.empty). */
export function select(name, label, options, opts = {}) {
	const id = opts.id || fieldId(name);
	const control = h('select', {
		class: 'utrecht-select utrecht-select--html-select',
		id, name, ...opts.attrs},
	opts.empty !== undefined ? h('option', {value: ''}, opts.empty) : null,
	options.map(([v, l]) => h('option', {value: v}, l)));
	if (opts.required)
		control.required = true;
	if (opts.value !== undefined)
		control.value = opts.value;
	return wrap(name, label, control, opts);
}

/* A single checkbox with its label. */
export function check(name, label, opts = {}) {
	const id = opts.id || fieldId(name);
	const control = h('input', {
		class: 'utrecht-checkbox utrecht-checkbox--html-input',
		type: 'checkbox', id, name, ...opts.attrs});
	if (opts.checked)
		control.checked = true;
	return wrap(name, label, control, {...opts, inline: true});
}

/*
 * A fieldset of radios or checkboxes: choices [value, label]; the inputs
 * share name, ids are fieldId(name) + '-' + value.
 */
export function choices(name, legend, type, options, opts = {}) {
	const base = opts.id || fieldId(name);
	return h('fieldset', {
		class: 'utrecht-form-fieldset nrm-fieldset',
		id: base, dataset: {field: name},
		'aria-describedby': opts.description ? base + '-desc' : null},
	h('legend', {class: 'utrecht-form-fieldset__legend'}, legend,
	  opts.required ? h('span', {class: 'nrm-required', 'aria-hidden': 'true'}, ' *') : null),
	opts.description ? h('div', {class: 'utrecht-form-field-description',
	                             id: base + '-desc'}, opts.description) : null,
	h('div', {class: 'nrm-choices'},
	  options.map(([v, l]) => {
		const id = base + '-' + v;
		const input = h('input', {
			class: type === 'radio' ?
			       'utrecht-radio-button utrecht-radio-button--html-input'
			       : 'utrecht-checkbox utrecht-checkbox--html-input',
			type, id, name, value: v});
		return h('div', {class: 'utrecht-form-field utrecht-form-field--'
		                 + (type === 'radio' ? 'radio' : 'checkbox')
		                 + ' nrm-choice', dataset: {choice: v}},
		         input,
		         h('label', {class: 'utrecht-form-label utrecht-form-label--'
		                     + (type === 'radio' ? 'radio' : 'checkbox'),
		                     for: id}, l));
	  })),
	h('div', {class: 'utrecht-form-field-error-message nrm-error',
	          id: base + '-err', hidden: true}));
}

/* The checked values of a choices() group. */
export function checkedValues(root, name) {
	return [...root.querySelectorAll('input[name="' + name + '"]')]
		.filter((i) => i.checked).map((i) => i.value);
}

export function announce(s) {
	const live = document.getElementById('live');
	if (!live)
		return;
	live.textContent = '';
	setTimeout(() => { live.textContent = s; }, 50);
}
