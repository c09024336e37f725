// The change calendar: maintenance windows, freezes, holidays and scheduled changes by day, and
// the conflicts among them (GET /api/v1/calendar).
import {api} from '../api.js';
import {badge, h, message, recordLink, section, table} from '../dom.js';

const day = (iso) => iso.slice(0, 10);
const time = (iso) => iso.slice(11, 16);

export async function calendarPage(view, {params, signal, go}) {
  const query = new URLSearchParams();
  for (const name of ['from', 'to', 'env']) if (params.get(name)) query.set(name, params.get(name));
  const from = h('input', {id: 'cal-from', type: 'date', value: params.get('from') || ''});
  const to = h('input', {id: 'cal-to', type: 'date', value: params.get('to') || ''});
  const env = h('input', {id: 'cal-env', value: params.get('env') || '', placeholder: 'all'});
  const form = h('form', {class: 'filters', 'aria-label': 'Calendar range'},
    h('div', {class: 'field'}, h('label', {for: 'cal-from'}, 'From'), from),
    h('div', {class: 'field'}, h('label', {for: 'cal-to'}, 'To (last day)'), to),
    h('div', {class: 'field'}, h('label', {for: 'cal-env'}, 'Environment'), env),
    h('button', {type: 'submit'}, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (from.value) next.set('from', from.value);
    if (to.value) next.set('to', to.value);
    if (env.value.trim()) next.set('env', env.value.trim());
    go(`#/calendar${next.size ? '?' + next : ''}`);
  });
  view.append(h('h1', {}, 'Calendar'), form);
  const calendar = await api(`/api/v1/calendar?${query}`, {signal});
  view.append(h('p', {class: 'muted'},
    `${day(calendar.from)} to ${day(calendar.to)} (exclusive), ${calendar.environment || 'every environment'}; times in UTC.`));
  if (calendar.conflicts.length) {
    view.append(section('Conflicts', h('ul', {class: 'conflicts'}, calendar.conflicts.map((c) =>
      h('li', {}, message('error', `${c.kind} in ${c.environment}: ${c.detail}`),
        h('span', {}, 'Change requests: ', c.change_requests.map((id) => [recordLink(id), ' ']))))))) ;
  }
  const byDay = new Map();
  for (const entry of calendar.entries) {
    if (!byDay.has(day(entry.start))) byDay.set(day(entry.start), []);
    byDay.get(day(entry.start)).push(entry);
  }
  if (!byDay.size) view.append(section('Planned', h('p', {class: 'muted'}, 'Nothing planned in this range.')));
  for (const [date, entries] of byDay) {
    const weekday = new Date(`${date}T00:00:00Z`).toLocaleDateString('en-GB',
      {weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC'});
    view.append(section(weekday, table('', [
      {label: 'When', class: 'nowrap', cell: (e) => `${time(e.start)} – ${day(e.end) === date ? time(e.end) : `${day(e.end)} ${time(e.end)}`}`},
      {label: 'Kind', cell: (e) => badge(e.kind)},
      {label: 'Where', cell: (e) => (e.environments.length ? e.environments.join(', ') : 'all')},
      {label: 'What', cell: (e) => (e.kind === 'change'
        ? [recordLink(e.name), ` ${e.detail} on ${e.system}`, e.hosts?.length ? ` (${e.hosts.join(', ')})` : '']
        : [e.name && e.kind !== 'holiday' && !e.detail.startsWith(e.name) ? h('strong', {}, `${e.name}: `) : null, e.detail])},
    ], entries)));
  }
}
