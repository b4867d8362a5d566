/*
 * routes.js - the console's screens: hash name -> module, the roles that
 * may open it and the catalogue key of its navigation entry (none: not in
 * the navigation).  public screens need no session.  The first entry with
 * a nav key that a role may open is that role's home screen.  One line per
 * screen, so that helpers adding screens touch only their own lines.
 */
export const routes = {
	login: {module: './screens/login.js', public: true},
	enrol: {module: './screens/enrol.js', public: true},
	/* reporter */
	signal: {module: './screens/signal.js', roles: ['reporter'],
	         nav: 'nav.signal'},
	receipts: {module: './screens/receipts.js', roles: ['reporter'],
	           nav: 'nav.receipts'},
	/* coordinator (the case also for the assessor) */
	inbox: {module: './screens/inbox.js', roles: ['coordinator'],
	        nav: 'nav.inbox'},
	case: {module: './screens/case.js', roles: ['coordinator', 'assessor']},
	/* a provider agency's coordinators (issue 18) */
	referrals: {module: './screens/referrals.js', roles: ['coordinator'],
	            nav: 'nav.referrals'},
	/* chain director, national desk and regional coordinators (issue 20) */
	overview: {module: './screens/overview.js',
	           roles: ['chain_director', 'coordinator'], nav: 'nav.overview'},
	/* assessor, auditor, analyst, admin, API reference: helper ui2 */
	queue: {module: './screens/queue.js', roles: ['assessor'],
	        nav: 'nav.queue'},
	/* identification panels (issue 19) */
	panels: {module: './screens/panels.js', roles: ['assessor'],
	         nav: 'nav.panels'},
	audit: {module: './screens/audit.js', roles: ['auditor'],
	        nav: 'nav.audit'},
	stats: {module: './screens/stats.js', roles: ['analyst'],
	        nav: 'nav.stats'},
	admin: {module: './screens/admin.js', roles: ['admin'],
	        nav: 'nav.admin'},
	/* the privacy officer (issue 15) */
	privacy: {module: './screens/privacy.js', roles: ['privacy_officer'],
	          nav: 'nav.privacy'},
	api: {module: './screens/api.js', public: true, nav: 'nav.api'}
};
