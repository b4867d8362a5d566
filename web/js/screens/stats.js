/*
 * screens/stats.js - the analyst's screen.  Statistics and indicators with
 * charts arrive with issue 13 (monitoring), which fills this screen; until
 * then it says so and shows what exists for the analyst today: the routing
 * configuration with its coverage report and "explain a decision".
 */
import {heading, para, alert} from '../dom.js';
import {routingSection} from './parts.js';

export async function render(root, ctx) {
	const {t} = ctx;
	root.append(heading(1, t('stats.title')), para(t('stats.intro')),
	            alert('info', t('stats.later')));
	const sec = await routingSection(ctx);
	if (ctx.alive())
		root.append(sec);
}
