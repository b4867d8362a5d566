/*
 * api.js - the console's one way to talk to /v1.  JSON in and out, the
 * session cookie (credentials same-origin), the CSRF token of the login
 * answer (kept in sessionStorage) in X-CSRF-Token on every unsafe method.
 * Every call resolves to {status, body, headers} (status 0 and body null
 * when the network failed: the caller decides whether to retry); it never
 * throws for an HTTP status.  A 401 (or a 403 for a missing CSRF token, as
 * after a new tab) on a call made with a session raises the shell's
 * "session expired" flow through the handler set by onExpired(); the
 * answer also carries expired: true so the screen stops what it did.
 */

const CSRF_KEY = 'nrm.csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let expiredHandler = null;

export function onExpired(fn) {
	expiredHandler = fn;
}

export function setCsrf(token) {
	try {
		if (token)
			sessionStorage.setItem(CSRF_KEY, token);
		else
			sessionStorage.removeItem(CSRF_KEY);
	} catch (e) {
		/* storage refused: unsafe calls will ask for a new login */
	}
}

function csrf() {
	try {
		return sessionStorage.getItem(CSRF_KEY);
	} catch (e) {
		return null;
	}
}

export const hasCsrf = () => Boolean(csrf());

async function parse(res) {
	if (res.status === 204 || res.status === 304)
		return null;
	const ct = res.headers.get('Content-Type') || '';
	const raw = await res.text();
	if (/json/.test(ct)) {
		try {
			return JSON.parse(raw);
		} catch (e) {
			return null;
		}
	}
	return raw;
}

/*
 * request(method, path, opts): opts.body (JSON), opts.headers (extra),
 * opts.public (a call that needs no session: login, enrolment, the first
 * session check: its 401 is an answer, not an expiry).
 */
export async function request(method, path, opts = {}) {
	const headers = {Accept: 'application/json', ...(opts.headers || {})};
	if (opts.body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (UNSAFE.has(method)) {
		const tok = csrf();
		if (tok)
			headers['X-CSRF-Token'] = tok;
	}
	let res;
	try {
		res = await fetch(path, {
			method, headers, credentials: 'same-origin', cache: 'no-store',
			body: opts.body === undefined ? undefined
			      : JSON.stringify(opts.body)});
	} catch (e) {
		return {status: 0, body: null, headers: new Headers(),
		        networkError: true};
	}
	const out = {status: res.status, body: await parse(res),
	             headers: res.headers};
	const field = out.body && out.body.field;
	if (!opts.public && (out.status === 401 ||
	    (out.status === 403 && field === 'X-CSRF-Token'))) {
		out.expired = true;
		if (expiredHandler)
			expiredHandler(out);
	}
	return out;
}

export const api = {
	request,
	get: (path, opts) => request('GET', path, opts),
	post: (path, body, opts) => request('POST', path, {...opts, body}),
	put: (path, body, opts) => request('PUT', path, {...opts, body}),
	patch: (path, body, opts) => request('PATCH', path, {...opts, body}),
	del: (path, opts) => request('DELETE', path, opts),
	setCsrf
};

/* A fresh Idempotency-Key (printable ASCII, unique per signal). */
export function newKey() {
	if (crypto.randomUUID)
		return crypto.randomUUID();
	const b = crypto.getRandomValues(new Uint8Array(16));
	return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
