// The agent's call screen: CTI screen-pop, the owner card by phone, a new ticket, its routing live.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('nav.call')} />`;
}

export default { id: 'call', nav: 'nav.call', roles: null, home: ['agent'], view: View };
