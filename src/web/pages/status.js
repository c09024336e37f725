// The help-desk status page: in plain words, what is changing now, what is next, and what
// finished lately (GET /api/v1/status). Refreshes itself every 30 seconds.
import {api} from '../api.js';
import {fill, h, recordLink, when} from '../dom.js';

function items(list, empty, tone) {
  if (!list.length) return h('p', {class: 'muted empty'}, empty);
  return h('ul', {class: 'status-list'}, list.map((item) => h('li', {class: ['status-item', tone,
    `state-${item.state}`]},
  h('p', {class: 'status-text'}, item.text),
  h('p', {class: 'status-facts'},
    item.change_request ? [recordLink(item.change_request), ' · '] : null,
    item.run ? [recordLink(item.run), ' · '] : null,
    `${item.system || 'unnamed system'} · ${item.environment || '—'}`,
    item.until ? ` · until ${when(item.until)}` : ''))));
}

export async function statusPage(view, {signal}) {
  const render = async () => {
    const status = await api('/api/v1/status', {signal});
    fill(view, 
      h('h1', {}, 'What is changing'),
      h('p', {class: ['headline', status.now.length ? 'busy' : 'calm'], 'data-testid': 'status-summary'},
        status.summary),
      h('section', {class: 'card', 'aria-labelledby': 'now-title'}, h('h2', {id: 'now-title'}, 'Right now'),
        items(status.now, 'No system is being changed.', 'now')),
      h('section', {class: 'card', 'aria-labelledby': 'next-title'},
        h('h2', {id: 'next-title'}, `Coming up (next ${status.days} days)`),
        items(status.next, 'Nothing is scheduled.', 'next')),
      h('section', {class: 'card', 'aria-labelledby': 'done-title'},
        h('h2', {id: 'done-title'}, 'Finished in the last 24 hours'),
        items(status.finished, 'Nothing finished lately.', 'done')),
      h('p', {class: 'muted'}, `Updated ${when(status.generated, true)}. This page refreshes by itself.`));
  };
  await render();
  const timer = setInterval(() => render().catch(() => {}), 30000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
