/*
 * screens/api.js - the API reference for developers of agency systems:
 * nrmd's OpenAPI document (GET /v1/openapi.json, no login needed) as a
 * readable page: per tag the operations (method, path, summary, the
 * description, parameters, request body, responses), then the schemas
 * with their properties.  Every string of the document is shown as text
 * (text nodes), never as HTML or Markdown; $refs show the schema's name.
 */
import {h, heading, para, alert, append} from '../dom.js';
import {table, failure} from './parts.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const refName = (ref) => String(ref).split('/').pop();

/* A short text of a JSON schema: its $ref name, type, enum or items. */
function typeOf(s) {
	if (!s || typeof s !== 'object')
		return '—';
	if (s.$ref)
		return refName(s.$ref);
	if (s.enum)
		return s.enum.map((x) => JSON.stringify(x)).join(' | ');
	if (s.const !== undefined)
		return JSON.stringify(s.const);
	for (const k of ['oneOf', 'anyOf', 'allOf'])
		if (Array.isArray(s[k]))
			return s[k].map(typeOf).join(k === 'allOf' ? ' & ' : ' | ');
	let ty = Array.isArray(s.type) ? s.type.join(' | ') : s.type || 'any';
	if (s.type === 'array' || (Array.isArray(s.type) &&
	    s.type.includes('array')))
		ty += ' of ' + typeOf(s.items);
	if (s.format)
		ty += ' (' + s.format + ')';
	return ty;
}

/* A parameter, resolved when it is a $ref into components/parameters. */
function param(doc, p) {
	if (p && p.$ref) {
		const n = refName(p.$ref);
		return (doc.components && doc.components.parameters &&
		        doc.components.parameters[n]) || {name: n};
	}
	return p;
}

function response(doc, r) {
	if (r && r.$ref) {
		const n = refName(r.$ref);
		return (doc.components && doc.components.responses &&
		        doc.components.responses[n]) || {description: n};
	}
	return r || {};
}

const bodyTypes = (content) => Object.entries(content || {}).map(([ct, v]) =>
	ct + ': ' + typeOf(v.schema)).join('; ');

/*
 * The document's descriptions are CommonMark; shown as text, with only
 * its block shape kept: paragraphs (single line breaks joined), "## "
 * headings, "* " / "- " lists, "|" tables as tables (a header row, its
 * "---" rule, then body rows), `code` spans as code elements and
 * **strong** / *emphasis* as such.
 * Nothing is parsed as HTML.
 */
function inline(s) {
	const out = [];
	String(s).split('`').forEach((part, i) => {
		if (i % 2) {
			out.push(h('code', {class: 'utrecht-code'}, part));
			return;
		}
		/* **strong** and *emphasis*; any other asterisk stays text */
		part.split(/(\*\*[^*]+\*\*|\*[^*\s][^*]*\*)/).forEach((t, j) => {
			if (j % 2)
				out.push(t.startsWith('**') ? h('strong', null, t.slice(2, -2))
				                            : h('em', null, t.slice(1, -1)));
			else if (t)
				out.push(t);
		});
	});
	return out;
}

/* The cells of a "| a | b |" line, trimmed. */
const cellsOf = (line) => line.trim().replace(/^\|/, '').replace(/\|$/, '')
	.split('|').map((c) => c.trim());

/*
 * A pipe table's lines as a table: the first row is the header when the
 * second is its rule ("|---|:--|"); otherwise every row is a body row.
 */
function pipeTable(lines) {
	const rows = lines.map(cellsOf);
	const ruled = rows.length > 1 &&
		rows[1].every((c) => /^:?-{3,}:?$/.test(c));
	const row = (cells, tag) => h('tr', {class: 'utrecht-table__row'},
		cells.map((c) => h(tag, {class: tag === 'th'
			? 'utrecht-table__header-cell' : 'utrecht-table__cell',
		                         scope: tag === 'th' ? 'col' : null},
		                   inline(c))));
	const body = (ruled ? rows.slice(2) : rows).map((r) => row(r, 'td'));
	/* a region of its own, named by its header (the document's own
	 * words): it scrolls sideways when it must, by keyboard too */
	return h('div', {class: 'nrm-table-wrap', tabindex: '0', role: 'region',
	                 'aria-label': rows[0].join(', ')},
		h('table', {class: 'utrecht-table nrm-doc-table'},
		  ruled ? h('thead', {class: 'utrecht-table__header'},
		            row(rows[0], 'th')) : null,
		  h('tbody', {class: 'utrecht-table__body'}, body)));
}

function text(s) {
	const blocks = [];
	let para = [], list = null, pre = null;
	const flush = () => {
		if (para.length)
			blocks.push(h('p', {class: 'utrecht-paragraph nrm-doc'},
			              inline(para.join(' '))));
		if (pre)
			blocks.push(pipeTable(pre));
		para = [];
		list = null;
		pre = null;
	};
	for (const raw of String(s).split('\n')) {
		const line = raw.trimEnd();
		const item = /^\s*[*-] (.*)$/.exec(line);
		if (!line.trim()) {
			flush();
		} else if (/^#{1,6} /.test(line)) {
			flush();
			blocks.push(h('p', {class: 'utrecht-paragraph nrm-doc'},
			              h('strong', null, inline(line.replace(/^#+ /, '')))));
		} else if (/^\s*\|/.test(line)) {
			if (!pre) {
				flush();
				pre = [];
			}
			pre.push(line);
		} else if (item) {
			if (!list) {
				flush();
				list = h('ul', {class: 'utrecht-unordered-list nrm-doc'});
				blocks.push(list);
			}
			list.append(h('li', {class: 'utrecht-unordered-list__item'},
			              inline(item[1])));
		} else if (list && /^\s+\S/.test(line)) {
			list.lastChild.append(' ', ...inline(line.trim()));
		} else {
			if (list || pre)
				flush();
			para.push(line.trim());
		}
	}
	flush();
	return h('div', {class: 'nrm-docs'}, blocks);
}

function operation(ctx, doc, path, method, op, pathParams) {
	const {t} = ctx;
	const params = [...(pathParams || []), ...(op.parameters || [])]
		.map((p) => param(doc, p));
	const id = 'op-' + (op.operationId || (method + path))
		.replace(/[^A-Za-z0-9_-]/g, '-');
	const body = op.requestBody && op.requestBody.content;
	return h('details', {class: 'nrm-op', id},
		h('summary', {class: 'nrm-op__summary'},
		  h('span', {class: 'nrm-op__method nrm-op__method--' + method},
		    method.toUpperCase()), ' ',
		  h('code', {class: 'utrecht-code nrm-op__path'}, path), ' ',
		  h('span', {class: 'nrm-op__title'}, op.summary || '')),
		op.description ? text(op.description) : null,
		params.length ? table([
			{label: t('apiref.param'), cell: (p) =>
				h('code', {class: 'utrecht-code'}, p.name)},
			{label: t('apiref.in'), cell: (p) => p.in || '—'},
			{label: t('apiref.required'), cell: (p) =>
				p.required ? t('common.yes') : t('common.no')},
			{label: t('apiref.type'), cell: (p) => typeOf(p.schema)},
			{label: t('apiref.description'), cell: (p) =>
				p.description ? inline(p.description) : ''}
		], params, {caption: t('apiref.params')}) : null,
		body ? para([h('strong', null, t('apiref.body')), ' ',
		             bodyTypes(body)]) : null,
		table([
			{label: t('apiref.status'), cell: (r) =>
				h('code', {class: 'utrecht-code'}, r[0])},
			{label: t('apiref.description'), cell: (r) =>
				inline(response(doc, r[1]).description || '')},
			{label: t('apiref.type'), cell: (r) =>
				bodyTypes(response(doc, r[1]).content) || '—'}
		], Object.entries(op.responses || {}),
		{caption: t('apiref.responses')}));
}

function schema(ctx, name, s) {
	const {t} = ctx;
	const req = new Set(s.required || []);
	const props = Object.entries(s.properties || {});
	return h('details', {class: 'nrm-op', id: 'schema-' + name},
		h('summary', {class: 'nrm-op__summary'},
		  h('code', {class: 'utrecht-code'}, name), ' ',
		  h('span', {class: 'nrm-op__title'}, s.title || typeOf(s))),
		s.description ? text(s.description) : null,
		props.length ? table([
			{label: t('apiref.property'), cell: ([k]) =>
				h('code', {class: 'utrecht-code'}, k)},
			{label: t('apiref.required'), cell: ([k]) =>
				req.has(k) ? t('common.yes') : t('common.no')},
			{label: t('apiref.type'), cell: ([, v]) => typeOf(v)},
			{label: t('apiref.description'), cell: ([, v]) =>
				inline((v && v.description) || '')}
		], props, {caption: t('apiref.properties', {name})})
		: para(t('apiref.type') + ': ' + typeOf(s)));
}

export async function render(root, ctx) {
	const {t, api} = ctx;
	root.append(heading(1, t('apiref.title')), para(t('apiref.intro')));
	const r = await api.get('/v1/openapi.json', {public: true});
	if (!ctx.alive())
		return;
	if (r.status !== 200 || !r.body || typeof r.body !== 'object') {
		root.append(failure(t, r));
		return;
	}
	const doc = r.body;
	const info = doc.info || {};
	append(root, [
		para([h('strong', null, info.title || 'nrm'), ' ',
		      t('apiref.version', {v: info.version || '?',
		                           oas: doc.openapi || '?'})]),
		info.description ? text(info.description) : null,
		para([t('apiref.download'), ' ',
		      h('a', {class: 'utrecht-link utrecht-link--html-a',
		              href: '/v1/openapi.yaml'}, 'openapi.yaml'), ', ',
		      h('a', {class: 'utrecht-link utrecht-link--html-a',
		              href: '/v1/openapi.json'}, 'openapi.json')])]);

	/* operations grouped by their first tag, in the document's tag order */
	const groups = new Map((doc.tags || []).map((g) => [g.name,
		{tag: g, ops: []}]));
	for (const [path, item] of Object.entries(doc.paths || {})) {
		for (const m of METHODS) {
			if (!item[m])
				continue;
			const tag = (item[m].tags || ['other'])[0];
			if (!groups.has(tag))
				groups.set(tag, {tag: {name: tag}, ops: []});
			groups.get(tag).ops.push(operation(ctx, doc, path, m, item[m],
			                                   item.parameters));
		}
	}
	const ops = h('section', {class: 'nrm-section',
	                          'aria-labelledby': 'ops-h'},
	              heading(2, t('apiref.operations'), {id: 'ops-h'}));
	for (const {tag, ops: list} of groups.values()) {
		if (!list.length)
			continue;
		append(ops, [heading(3, tag.name),
		             tag.description ? text(tag.description) : null,
		             h('div', {class: 'nrm-ops'}, list)]);
	}
	const schemas = Object.entries((doc.components || {}).schemas || {});
	root.append(ops, h('section', {class: 'nrm-section',
	                               'aria-labelledby': 'schemas-h'},
		heading(2, t('apiref.schemas'), {id: 'schemas-h'}),
		h('div', {class: 'nrm-ops'},
		  schemas.map(([n, s]) => schema(ctx, n, s)))));
	if (!schemas.length)
		root.append(alert('info', t('apiref.no_schemas')));
}
