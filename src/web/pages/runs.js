// Runs: the list, and one run with its per-host step timeline drawn as SVG, kept live with the
// run's Server-Sent Events, the trigger evidence when a rollback fired, and the run's actions.
import {api, followRun} from '../api.js';
import {badge, duration, fill, h, message, recordLink, s, section, table, when} from '../dom.js';
import {actionForm, field} from '../forms.js';
import {pager} from './crs.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export async function runListPage(view, {params, signal}) {
  const offset = Number(params.get('offset') || 0);
  const page = await api(`/api/v1/runs?limit=25&offset=${offset}`, {signal});
  view.append(h('h1', {}, 'Runs'), h('section', {class: 'card'}, table('', [
    {label: 'Run', cell: (r) => recordLink(r.id)},
    {label: 'CR', cell: (r) => recordLink(r.change_request) || '—'},
    {label: 'System', cell: (r) => r.system || '—'},
    {label: 'Environment', cell: (r) => r.environment || '—'},
    {label: 'State', cell: (r) => badge(r.state)},
    {label: 'Created', cell: (r) => when(r.created)},
    {label: 'Finished', cell: (r) => when(r.finished)},
  ], page.items, 'No run yet.'), pager(page, (o) => `#/runs?offset=${o}`)));
}

// Seconds since the epoch of an RFC 3339 time, or null.
const secondsOf = (iso) => (iso ? Date.parse(iso) / 1000 : null);

// A tick step giving about six ticks over `span` seconds.
function tickStep(span) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  return steps.find((step) => span / step <= 8) || 86400;
}

// The timeline: one row per host, one bar per step execution from its start to its end (or to
// now while it runs), coloured by state, over a time axis.
export function timeline(run, nowSeconds) {
  const hosts = [];
  for (const step of run.steps) if (!hosts.includes(step.host)) hosts.push(step.host);
  const starts = run.steps.map((e) => secondsOf(e.started)).filter((t) => t !== null);
  const ends = run.steps.map((e) => secondsOf(e.finished)).filter((t) => t !== null);
  const t0 = Math.min(secondsOf(run.started) ?? Infinity, ...starts, secondsOf(run.created));
  const running = !FINISHED.has(run.state);
  const t1 = Math.max(t0 + 10, ...ends, ...starts, running ? nowSeconds : secondsOf(run.finished) ?? t0);
  const label = 150, width = 960, right = 20, rowHeight = 30, top = 30;
  const plot = width - label - right;
  const height = top + Math.max(1, hosts.length) * rowHeight + 20;
  const x = (t) => label + ((t - t0) / (t1 - t0)) * plot;
  const svg = s('svg', {class: 'timeline', viewBox: `0 0 ${width} ${height}`, width: '100%',
    role: 'img', 'aria-labelledby': 'timeline-title timeline-desc', 'data-testid': 'timeline'});
  const finishedBars = run.steps.filter((e) => FINISHED.has(e.state) || e.state === 'skipped').length;
  svg.append(s('title', {id: 'timeline-title'}, `Step timeline of ${run.id}`),
    s('desc', {id: 'timeline-desc'},
      `${hosts.length} hosts, ${run.steps.length} step executions, ${finishedBars} finished; run ${run.state}.`));
  const step = tickStep(t1 - t0);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    svg.append(s('line', {class: 'tick', x1: x(t), x2: x(t), y1: top - 6, y2: height - 20}),
      s('text', {class: 'tick-label', x: x(t), y: top - 12, 'text-anchor': 'middle'},
        new Date(t * 1000).toISOString().slice(11, 19)));
  }
  hosts.forEach((host, row) => {
    const y = top + row * rowHeight;
    svg.append(s('rect', {class: row % 2 ? 'row odd' : 'row', x: 0, y, width, height: rowHeight}),
      s('text', {class: 'host-label', x: 8, y: y + rowHeight / 2 + 4}, host));
  });
  for (const e of run.steps) {
    const start = secondsOf(e.started);
    if (start === null) continue;
    const end = secondsOf(e.finished) ?? (running ? nowSeconds : start);
    const y = top + hosts.indexOf(e.host) * rowHeight + 6;
    const w = Math.max(6, x(end) - x(start));
    svg.append(s('rect', {class: ['bar', `bar-${e.state}`], x: x(start), y, width: w,
      height: rowHeight - 12, rx: 3, 'data-state': e.state, 'data-host': e.host,
      'data-step': e.step},
    s('title', {}, `${e.host} · ${e.step}: ${e.state}` +
      ` (${when(e.started, true)} – ${e.finished ? when(e.finished, true) : 'running'})`)));
  }
  svg.append(s('line', {class: 'axis', x1: label, x2: width - right, y1: height - 20, y2: height - 20}));
  return svg;
}

function legend() {
  return h('ul', {class: 'legend', 'aria-label': 'Colours'}, ['succeeded', 'running', 'failed',
    'unknown', 'cancelled', 'skipped'].map((state) => h('li', {},
    h('span', {class: ['swatch', `bar-${state}`], 'aria-hidden': 'true'}), state)));
}

function triggersSection(run) {
  if (!run.triggers || !run.triggers.length) return null;
  return section('Why it rolled back', h('p', {}, 'A rollback trigger fired during this run:'),
    table('', [
      {label: 'Trigger', cell: (t) => t.trigger},
      {label: 'Action', cell: (t) => t.action},
      {label: 'Measured', cell: (t) => (t.measurement === null ? '—' : String(t.measurement))},
      {label: 'What it saw', cell: (t) => t.detail},
      {label: 'At', cell: (t) => when(t.at, true)},
    ], run.triggers));
}

function actionsSection(run, me) {
  if (me.read_only) return null;
  const reason = h('input', {id: 'rollback-reason', name: 'reason', required: true,
    placeholder: 'error rate above the threshold'});
  const id = encodeURIComponent(run.id);
  // A rollback answers with its run, or with whose authorisation it still needs (§6.1 step 3).
  const rolledBack = (answer, feedback) => feedback.append(answer.id
    ? h('p', {class: 'message message-ok', role: 'status'}, 'Rollback: started as ',
      recordLink(answer.id), '.')
    : message('ok', answer.message || `Rollback: awaiting ${answer.awaiting.join(' and ')}.`));
  const rollback = actionForm({title: 'Roll back', label: 'Rollback', buttonClass: 'button-danger'},
    field('Reason', reason),
    () => ({path: `/api/v1/runs/${id}/rollback`, body: {reason: reason.value}}), rolledBack);
  const cancel = actionForm({title: 'Cancel', button: 'Cancel the run', buttonClass: '',
    attrs: {'data-role': 'cancel'}},
  h('p', {class: 'muted'}, 'Stops the run after the steps in flight.'),
  () => ({path: `/api/v1/runs/${id}/cancel`, body: {}}),
  (_, feedback) => feedback.append(message('ok', 'Cancel: requested.')));
  // A finished run can still be rolled back; only a running one can be cancelled (the page
  // hides the form when the run finishes).
  return section('Actions', h('div', {class: 'actions'}, rollback, cancel));
}

export async function runPage(view, {me, signal}, id) {
  const head = h('div');
  const picture = h('div', {class: 'timeline-wrap'});
  const live = h('p', {class: 'live', role: 'status', 'data-testid': 'live-state'});
  const triggers = h('div');
  const actions = h('div');  // drawn once, so a reason being typed survives the live updates
  const steps = h('div');
  let latest = null;
  const draw = (run) => {
    latest = run;
    const finished = FINISHED.has(run.state);
    fill(head,
      h('p', {class: 'crumbs'}, h('a', {href: '#/runs'}, 'Runs'), ' / ', run.id),
      h('header', {class: 'page-head'},
        h('h1', {}, `${run.id}: ${run.system || 'developer run'}${run.environment ? ` in ${run.environment}` : ''}`),
        h('div', {class: 'badges'}, h('span', {'data-testid': 'run-state'}, badge(run.state)))),
      h('dl', {class: 'facts facts-inline'},
        h('dt', {}, 'Change request'), h('dd', {}, recordLink(run.change_request) || '—'),
        h('dt', {}, 'Started by'), h('dd', {}, run.created_by),
        h('dt', {}, 'Started'), h('dd', {}, when(run.started || run.created, true)),
        h('dt', {}, 'Finished'), h('dd', {}, when(run.finished, true)),
        h('dt', {}, 'Transport'), h('dd', {}, run.transport)),
      run.message ? message(run.state === 'failed' ? 'error' : 'info', run.message) : null,
      run.attention ? message('error', `Needs a person: ${run.attention}`) : null);
    fill(picture, timeline(run, Date.now() / 1000), legend());
    live.textContent = finished ? `Finished: ${run.state}.` : 'Live: updating as the run progresses…';
    live.className = finished ? 'live done' : 'live on';
    if (!actions.firstChild) fill(actions, actionsSection(run, me));
    const cancelForm = actions.querySelector('[data-role="cancel"]');
    if (cancelForm) cancelForm.hidden = finished;
    fill(triggers, triggersSection(run));
    fill(steps, section('Step executions', table('', [
        {label: 'Host', cell: (e) => e.host},
        {label: 'Step', cell: (e) => e.step},
        {label: 'State', cell: (e) => badge(e.state)},
        {label: 'Exit', cell: (e) => (e.exit_code === null ? '—' : String(e.exit_code))},
        {label: 'Started', cell: (e) => when(e.started, true)},
        {label: 'Took', cell: (e) => (e.started && e.finished
          ? duration(secondsOf(e.finished) - secondsOf(e.started)) : '—')},
        {label: 'Attempt', cell: (e) => String(e.attempt)},
      ], run.steps, 'No step has started yet.')));
  };
  view.append(head, section('Timeline', live, picture), triggers, actions, steps);
  draw(await api(`/api/v1/runs/${encodeURIComponent(id)}`, {signal}));
  if (FINISHED.has(latest.state)) return;
  // Running bars grow with the clock between events.
  const ticker = setInterval(() => {
    if (latest && !FINISHED.has(latest.state)) {
      fill(picture, timeline(latest, Date.now() / 1000), legend());
    }
  }, 1000);
  signal.addEventListener('abort', () => clearInterval(ticker));
  try {
    await followRun(id, draw, signal);
  } catch (error) {
    if (error.name !== 'AbortError') view.append(message('error', `Live updates stopped: ${error.message}`));
  } finally {
    clearInterval(ticker);
  }
}
