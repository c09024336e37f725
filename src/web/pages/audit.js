// The audit trail in chain order (GET /api/v1/audit), paged, optionally for one object.
import {api} from '../api.js';
import {h, recordLink, table, when} from '../dom.js';
import {pager} from './crs.js';

function detailsText(details) {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object') return String(details);
  return Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' · ');
}

export async function auditPage(view, {params, signal, go}) {
  const object = params.get('object') || '';
  const offset = Number(params.get('offset') || 0);
  const query = new URLSearchParams({limit: '50', offset: String(offset)});
  if (object) query.set('object', object);
  const input = h('input', {id: 'audit-object', value: object, placeholder: 'CR-7, RUN-3, TOK-1'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail'},
    h('div', {class: 'field'}, h('label', {for: 'audit-object'}, 'Object'), input),
    h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(input.value.trim() ? `#/audit?object=${encodeURIComponent(input.value.trim())}` : '#/audit');
  });
  view.append(h('h1', {}, 'Audit trail'), form);
  const page = await api(`/api/v1/audit?${query}`, {signal});
  view.append(h('section', {class: 'card'}, table('', [
    {label: '#', cell: (e) => String(e.seq)},
    {label: 'At', cell: (e) => when(e.at, true), class: 'nowrap'},
    {label: 'Actor', cell: (e) => e.actor},
    {label: 'Action', cell: (e) => h('code', {}, e.action), class: 'nowrap'},
    {label: 'Object', cell: (e) => recordLink(e.object), class: 'nowrap'},
    {label: 'Details', cell: (e) => h('span', {class: 'details'}, detailsText(e.details))},
  ], page.items, 'No audit event.'), pager(page, (o) => {
    const next = new URLSearchParams();
    if (object) next.set('object', object);
    next.set('offset', String(o));
    return `#/audit?${next}`;
  })));
}
