// The operator's status page: every daemon instance (kefu status); administrators only.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('nav.status')} />`;
}

export default { id: 'status', nav: 'nav.status', roles: ['admin'], home: ['admin'], view: View };
