// The manager's dashboard: the month's KPIs as kefu report computes them, the 12-month chart, watchlists.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('nav.dashboard')} />`;
}

export default { id: 'dashboard', nav: 'nav.dashboard', roles: ['manager', 'head', 'gm', 'vp', 'admin'], home: [], view: View };
