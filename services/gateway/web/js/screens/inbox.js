// The approver's inbox: my pending steps, approve or reject, the delegate.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('nav.inbox')} />`;
}

export default { id: 'inbox', nav: 'nav.inbox', roles: null, home: ['gm', 'vp'], view: View };
