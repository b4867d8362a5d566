/*
 * reporter.mjs - a node:test reporter that prints one flat TAP line per
 * test that has no subtests ("ok N - file: name" / "not ok N - ..."),
 * so that scripts/check.sh counts the browser tier per test, not per
 * file or per describe block; diagnostics and the tests' own output as
 * "# " lines, and a closing count.
 */
import {basename} from 'node:path';

function comment(text) {
	return String(text).split('\n').filter((l) => l !== '')
		.map((l) => '# ' + l + '\n').join('');
}

export default async function* flatTap(source) {
	const stack = [];
	let n = 0;
	let failed = 0;

	for await (const ev of source) {
		const d = ev.data || {};
		switch (ev.type) {
		case 'test:start':
			if (stack.length > 0 &&
			    stack[stack.length - 1].nesting < d.nesting)
				stack[stack.length - 1].parent = true;
			stack.push({name: d.name, nesting: d.nesting, parent: false});
			break;
		case 'test:pass':
		case 'test:fail': {
			let parent = false;
			const top = stack[stack.length - 1];
			if (top && top.name === d.name && top.nesting === d.nesting) {
				parent = top.parent;
				stack.pop();
			}
			if (parent && ev.type === 'test:pass')
				break;
			/* a failing suite whose tests all passed still counts */
			if (parent && ev.type === 'test:fail' &&
			    d.details && d.details.type === 'suite')
				break;
			n++;
			const where = d.file ? basename(d.file) + ': ' : '';
			const ms = d.details && d.details.duration_ms !== undefined ?
			    ` # time=${Math.round(d.details.duration_ms)}ms` : '';
			if (ev.type === 'test:pass') {
				yield `ok ${n} - ${where}${d.name}` +
				    (d.skip ? ' # SKIP' : ms) + '\n';
			} else {
				failed++;
				yield `not ok ${n} - ${where}${d.name}${ms}\n`;
				const err = d.details && d.details.error;
				yield comment(err && err.cause ? err.cause.stack ||
				    err.cause : err && (err.stack || err.message));
			}
			break;
		}
		case 'test:diagnostic':
		case 'test:stdout':
		case 'test:stderr':
			yield comment(d.message);
			break;
		default:
			break;
		}
	}
	yield `1..${n}\n# browser: ${n - failed} passed, ${failed} failed\n`;
}
