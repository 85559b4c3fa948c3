// Staff queues: my tickets, my department's, overdue and escalated; filters and search.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('nav.queue')} />`;
}

export default { id: 'queue', nav: 'nav.queue', roles: null, home: ['staff', 'manager', 'head'], view: View };
