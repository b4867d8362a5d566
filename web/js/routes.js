/*
 * routes.js - the console's screens: hash name -> the roles that may
 * open it (public: none, no session needed) and whether it has a
 * navigation entry.  Screen <name> is the module ./screens/<name>.js and
 * its navigation entry the catalogue key nav.<name>.  The first screen
 * in the navigation that a role may open is that role's home screen.
 * One line per screen, so that helpers adding screens touch only their
 * own lines.
 */
const screens = {
	login: {public: true},
	enrol: {public: true},
	/* reporter */
	signal: {roles: ['reporter'], nav: true},
	receipts: {roles: ['reporter'], nav: true},
	/* coordinator (the case also for the assessor) */
	inbox: {roles: ['coordinator'], nav: true},
	case: {roles: ['coordinator', 'assessor']},
	/* a provider agency's coordinators (issue 18) */
	referrals: {roles: ['coordinator'], nav: true},
	/* chain director, national desk and regional coordinators (issue 20) */
	overview: {roles: ['chain_director', 'coordinator'], nav: true},
	/* assessor, auditor, analyst, admin, API reference: helper ui2 */
	queue: {roles: ['assessor'], nav: true},
	/* identification panels (issue 19) */
	panels: {roles: ['assessor'], nav: true},
	audit: {roles: ['auditor'], nav: true},
	stats: {roles: ['analyst'], nav: true},
	admin: {roles: ['admin'], nav: true},
	/* the privacy officer (issue 15) */
	privacy: {roles: ['privacy_officer'], nav: true},
	api: {public: true, nav: true}
};

/* name -> {module, public, roles, nav: its catalogue key or undefined} */
export const routes = Object.fromEntries(Object.entries(screens).map(
	([name, s]) => [name, {...s, module: './screens/' + name + '.js',
	                       nav: s.nav ? 'nav.' + name : undefined}]));
