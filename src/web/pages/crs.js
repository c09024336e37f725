// Change requests: the list (filter by state and system, paged) and one CR with its pipeline
// DEV → TEST → PROD, gates with what is missing, approvals, checklists, documents and actions.
import {api} from '../api.js';
import {badge, fill, h, message, promotionOrder, recordLink, section, table, when} from '../dom.js';
import {actionForm, field, fileBase64} from '../forms.js';

const STATES = ['draft', 'submitted', 'in-progress', 'completed', 'closed', 'rejected',
  'cancelled'];

export async function crListPage(view, {params, signal, go}) {
  const state = params.get('state') || '';
  const system = params.get('system') || '';
  const offset = Number(params.get('offset') || 0);
  const query = new URLSearchParams();
  if (state) query.set('state', state);
  if (system) query.set('system', system);
  query.set('limit', '25');
  query.set('offset', String(offset));

  const stateSelect = h('select', {id: 'filter-state', name: 'state'},
    h('option', {value: ''}, 'Any state'),
    STATES.map((s) => h('option', {value: s, selected: s === state}, s)));
  const systemInput = h('input', {id: 'filter-system', name: 'system', value: system,
    placeholder: 'e.g. billing'});
  const filters = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter change requests'},
    h('div', {class: 'field'}, h('label', {for: 'filter-state'}, 'State'), stateSelect),
    h('div', {class: 'field'}, h('label', {for: 'filter-system'}, 'System'), systemInput),
    h('button', {type: 'submit'}, 'Filter'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (stateSelect.value) next.set('state', stateSelect.value);
    if (systemInput.value.trim()) next.set('system', systemInput.value.trim());
    go(`#/crs${next.size ? '?' + next : ''}`);
  });
  view.append(h('h1', {}, 'Change requests'), filters);

  const page = await api(`/api/v1/crs?${query}`, {signal});
  view.append(h('section', {class: 'card'}, table('', [
    {label: 'CR', cell: (r) => recordLink(r.id)},
    {label: 'Title', cell: (r) => r.title},
    {label: 'System', cell: (r) => r.system},
    {label: 'Class', cell: (r) => badge(r.classification)},
    {label: 'State', cell: (r) => [badge(r.state), r.emergency ? badge('emergency') : null]},
    {label: 'Requester', cell: (r) => r.requester},
    {label: 'Updated', cell: (r) => when(r.updated_at)},
  ], page.items, 'No change request matches.'), pager(page, (o) => {
    const next = new URLSearchParams(query);
    next.delete('limit');
    next.set('offset', String(o));
    return `#/crs?${next}`;
  })));
}

// "Showing 1–25 of 40", previous and next links.
export function pager(page, hrefFor) {
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  const links = [];
  if (page.offset > 0) {
    links.push(h('a', {href: hrefFor(Math.max(0, page.offset - page.limit)), rel: 'prev'},
      '← Previous'));
  }
  if (page.next) {
    const nextOffset = new URLSearchParams(page.next.split('?')[1]).get('offset');
    links.push(h('a', {href: hrefFor(Number(nextOffset)), rel: 'next'}, 'Next →'));
  }
  return h('nav', {class: 'pager', 'aria-label': 'Pages'},
    h('span', {class: 'muted'}, `Showing ${first}–${last} of ${page.total}`), ...links);
}

function stageOf(cr, env, gates) {
  const outcome = cr.outcomes[env];
  if (outcome === 'succeeded') return ['deployed', 'Deployed'];
  if (outcome === 'failed') return ['failed', 'Deployment failed'];
  if (outcome === 'rolled-back') return ['rolled-back', 'Rolled back'];
  if (!gates) return ['unknown', 'Gates unknown'];
  if (gates.passed) return ['ready', 'Ready to start'];
  const missing = gates.gates.filter((g) => !g.passed).length;
  return ['blocked', `Waiting: ${missing} gate${missing === 1 ? '' : 's'} missing`];
}

function pipeline(cr, envs, gatesByEnv) {
  const steps = envs.map((env, index) => {
    const [tone, label] = stageOf(cr, env, gatesByEnv[env]);
    const approvals = cr.approvals.filter((a) => a.environment === env && a.counts);
    return h('li', {class: ['stage', `stage-${tone}`], 'data-env': env},
      h('span', {class: 'stage-name'}, env),
      h('span', {class: 'stage-state'}, label),
      h('span', {class: 'stage-detail'},
        `${approvals.length} approval${approvals.length === 1 ? '' : 's'}`),
      h('span', {class: 'stage-detail'},
        cr.scheduled[env] ? `Scheduled ${when(cr.scheduled[env])}` : 'Not scheduled'),
      index < envs.length - 1 ? h('span', {class: 'stage-arrow', 'aria-hidden': 'true'}, '→') : null);
  });
  return section('Pipeline', h('ol', {class: 'pipeline', 'aria-label': 'Promotion path'}, steps));
}

function gatesSection(envs, gatesByEnv) {
  let gatesOpened = 0;  // the first environment with a missing gate starts open
  const blocks = envs.map((env) => {
    const report = gatesByEnv[env];
    if (!report) return h('p', {class: 'muted'}, `${env}: the gates could not be checked.`);
    const failed = report.gates.filter((g) => !g.passed).length;
    return h('details', {class: 'gates', open: !report.passed && !gatesOpened++},
      h('summary', {}, h('strong', {}, env), ' ',
        report.passed ? badge('all passed', 'succeeded') : badge(`${failed} missing`, 'failed')),
      h('ul', {class: 'gate-list'}, report.gates.map((g) => h('li', {class: g.passed ? 'ok' : 'missing'},
        h('span', {class: 'gate-mark', 'aria-hidden': 'true'}, g.passed ? '✓' : '✗'),
        h('span', {class: 'visually-hidden'}, g.passed ? 'passed: ' : 'missing: '),
        h('span', {class: 'gate-name'}, g.name),
        g.passed ? null : h('span', {class: 'gate-missing'}, g.missing)))));
  });
  return section('Gates', h('p', {class: 'muted'},
    'What each environment still needs before a deployment may start.'), blocks);
}

function checklistSection(envs, checklists) {
  return section('Checklists', envs.map((env) => {
    const list = checklists[env];
    if (!list) return null;
    const done = list.items.filter((i) => i.done).length;
    const groups = new Map();
    for (const item of list.items) {
      if (!groups.has(item.section)) groups.set(item.section, []);
      groups.get(item.section).push(item);
    }
    return h('details', {class: 'checklist'},
      h('summary', {}, h('strong', {}, env), ` ${done} of ${list.items.length} done`),
      [...groups].map(([name, items]) => h('div', {},
        h('h3', {}, name),
        h('ul', {class: 'check-items'}, items.map((i) => h('li', {class: i.done ? 'ok' : 'open'},
          h('span', {'aria-hidden': 'true', class: 'gate-mark'}, i.done ? '☑' : '☐'),
          h('span', {class: 'visually-hidden'}, i.done ? 'done: ' : 'open: '),
          i.item, i.evidence ? h('span', {class: 'muted'}, ` — ${i.evidence}`) : null))))));
  }));
}

function documentSection(cr) {
  return section('Change request document', cr.document.map((s) => h('div', {class: 'doc-section'},
    h('h3', {}, s.heading),
    h('dl', {class: 'facts'}, s.fields.map((f) => [h('dt', {}, f.label), h('dd', {}, f.value)])))));
}

// Environments in the configured promotion order: the CR document's `environments` (its
// `outcomes` object has one key per environment, but JSON keys carry no order).
export function configuredOrder(cr) {
  return cr.environments || promotionOrder(Object.keys(cr.outcomes));
}

// "2026-12-03T22:00" (a datetime-local value, read as UTC) -> "2026-12-03T22:00:00Z".
const utcOf = (local) => (local.length === 16 ? `${local}:00Z` : `${local}Z`);

// The action forms; the server decides, so a refusal shows its message (and the field it names)
// next to the form. `notice`: the outcome of the previous action, shown again after the page is
// redrawn.
function actionsSection(cr, envs, me, reload, notice) {
  if (me.read_only) {
    return section('Actions', h('p', {class: 'muted', 'data-testid': 'read-only-note'},
      `You can read this change request but not act on it (${me.roles.join(', ')}: read-only).`));
  }
  const feedback = h('div', {'aria-live': 'polite', class: 'action-feedback'},
    notice ? message('ok', notice) : null);
  const envSelect = (id) => h('select', {id, name: 'environment'},
    envs.map((e) => h('option', {value: e}, e)));
  const envField = (select) => field('Environment', select);
  const id = encodeURIComponent(cr.id);
  const done = (label) => () => reload(`${label}: done.`);

  const approveEnv = envSelect('approve-env');
  const rejectEnv = envSelect('reject-env');
  const rejectReason = h('input', {id: 'reject-reason', name: 'reason', required: true});
  const signEnv = envSelect('signoff-env');
  const signKind = h('input', {id: 'signoff-kind', name: 'kind', required: true, list: 'signoff-kinds',
    placeholder: 'test-manager'});
  const startEnv = envSelect('start-env');
  const attachKind = h('input', {id: 'attach-kind', name: 'kind', required: true,
    list: 'attachment-kinds', placeholder: 'release-notes'});
  const attachFile = h('input', {id: 'attach-file', type: 'file', required: true,
    'data-fields': 'file_name content_base64 content'});
  const scheduleEnv = envSelect('schedule-env');
  const scheduleAt = h('input', {id: 'schedule-at', name: 'at', type: 'datetime-local', required: true});
  const decideEnv = envSelect('decide-env');
  const decision = h('select', {id: 'decide-decision', name: 'decision'},
    h('option', {value: 'continue'}, 'continue: keep the deployment'),
    h('option', {value: 'rollback'}, 'rollback: undo it'));
  const decideReason = h('input', {id: 'decide-reason', name: 'reason',
    placeholder: 'the alert was noise'});
  return section('Actions', h('div', {class: 'actions'},
    actionForm({title: 'Approve', label: 'Approval'}, envField(approveEnv),
      () => ({path: `/api/v1/crs/${id}/approvals`, body: {environment: approveEnv.value}}),
      done('Approval')),
    actionForm({title: 'Reject', label: 'Rejection'},
      [envField(rejectEnv), field('Reason', rejectReason)],
      () => ({path: `/api/v1/crs/${id}/rejections`,
        body: {environment: rejectEnv.value, reason: rejectReason.value}}),
      done('Rejection')),
    actionForm({title: 'Sign off', label: 'Sign-off'},
      [envField(signEnv), field('Kind', signKind),
        h('datalist', {id: 'signoff-kinds'}, ['dev-lead', 'test-manager', 'business-analyst', 'uat',
          'cab'].map((k) => h('option', {value: k})))],
      () => ({path: `/api/v1/crs/${id}/signoffs`,
        body: {environment: signEnv.value, kind: signKind.value}}),
      done('Sign-off')),
    actionForm({title: 'Start a deployment', label: 'Start', button: 'Start'}, envField(startEnv),
      () => ({path: '/api/v1/runs', body: {change_request: cr.id, environment: startEnv.value}}),
      (run) => { if (run && run.id) location.hash = `#/runs/${run.id}`; }),
    actionForm({title: 'Attach document', label: 'Attachment', button: 'Attach'},
      [field('Kind', attachKind), field('File', attachFile, 'any file; sent in base64'),
        h('datalist', {id: 'attachment-kinds'}, ['release-notes', 'security-impact-assessment',
          'rollback-procedure', 'test-specification', 'implementation-plan', 'test-plan',
          'test-results'].map((k) => h('option', {value: k})))],
      async () => {
        const file = await fileBase64(attachFile);
        return {path: `/api/v1/crs/${id}/attachments`,
          body: {kind: attachKind.value.trim(), file_name: file.name, content_base64: file.base64}};
      },
      (answer) => reload(`Attached ${answer.attachments.at(-1)?.file_name ?? 'the document'}.`)),
    actionForm({title: 'Schedule', label: 'Schedule'},
      [envField(scheduleEnv), field('Start (UTC)', scheduleAt, 'the time is read as UTC')],
      () => ({path: `/api/v1/crs/${id}/schedule`,
        body: {environment: scheduleEnv.value, at: utcOf(scheduleAt.value)}}),
      (answer) => {
        const env = scheduleEnv.value;
        const conflicts = answer.conflicts.map((c) => c.detail);
        const notices = answer.advance_notices.length;
        return reload(`Scheduled in ${env} for ${when(answer.scheduled[env])}.` +
          (conflicts.length ? ` Conflicts: ${conflicts.join('; ')}.` : '') +
          (notices ? ` ${notices} advance notice${notices === 1 ? '' : 's'} sent.` : ''));
      }),
    actionForm({title: 'Decide', label: 'Decision', button: 'Record decision'},
      [h('p', {class: 'muted'}, 'Answers a rollback trigger that waits for a decision (§6.1); ' +
        'when none waits, the server says so.'),
      envField(decideEnv), field('Decision', decision), field('Reason', decideReason)],
      () => ({path: `/api/v1/crs/${id}/decisions`,
        body: {environment: decideEnv.value, decision: decision.value, reason: decideReason.value}}),
      (answer) => {
        if (decision.value === 'continue') return reload('Decision recorded: continue.');
        if (answer.id) {
          location.hash = `#/runs/${answer.id}`;
          return null;
        }
        return reload(answer.message || `Rollback awaits ${answer.awaiting.join(' and ')}.`);
      })),
  feedback);
}

export async function crDetailPage(view, {me, signal}, id) {
  const load = async (notice) => {
    const cr = await api(`/api/v1/crs/${encodeURIComponent(id)}`, {signal});
    const envs = configuredOrder(cr);
    const gatesByEnv = {};
    const checklists = {};
    await Promise.all(envs.flatMap((env) => [
      api(`/api/v1/crs/${encodeURIComponent(id)}/gates?environment=${encodeURIComponent(env)}`,
        {signal}).then((g) => { gatesByEnv[env] = g; }, () => {}),
      api(`/api/v1/crs/${encodeURIComponent(id)}/checklist?environment=${encodeURIComponent(env)}`,
        {signal}).then((c) => { checklists[env] = c; }, () => {}),
    ]));
    const runs = await api('/api/v1/runs?limit=500', {signal});
    const crRuns = runs.items.filter((r) => r.change_request === cr.id);
    fill(view, 
      h('p', {class: 'crumbs'}, h('a', {href: '#/crs'}, 'Change requests'), ' / ', cr.id),
      h('header', {class: 'page-head'},
        h('h1', {}, `${cr.id}: ${cr.title}`),
        h('div', {class: 'badges'}, badge(cr.state), badge(cr.classification),
          cr.emergency ? badge('emergency') : null, badge(cr.type, 'neutral'))),
      h('div', {class: 'grid-2'},
        section('Summary', h('dl', {class: 'facts'},
          h('dt', {}, 'Classification'), h('dd', {}, `${cr.classification} — ${cr.classification_name}`),
          h('dt', {}, 'System'), h('dd', {}, [cr.system, ...cr.affected_systems.filter((s) => s !== cr.system)].join(', ')),
          h('dt', {}, 'Patch'), h('dd', {}, recordLink(cr.patch_id)),
          h('dt', {}, 'Requester'), h('dd', {}, cr.requester),
          h('dt', {}, 'Revision'), h('dd', {}, String(cr.revision)),
          h('dt', {}, 'Created'), h('dd', {}, when(cr.created_at)),
          h('dt', {}, 'Submitted'), h('dd', {}, when(cr.submitted_at)),
          h('dt', {}, 'CVSS'), h('dd', {}, cr.cvss ? `${cr.cvss.base_score} ${cr.cvss.severity}` : 'not scored'),
          h('dt', {}, 'Description'), h('dd', {}, cr.description || '—'))),
        section('Risk', h('dl', {class: 'facts'},
          h('dt', {}, 'Risk assessment'), h('dd', {}, cr.risk_assessment || '—'),
          h('dt', {}, 'Rollback complexity'), h('dd', {}, cr.rollback_complexity),
          h('dt', {}, 'Rollback plan'), h('dd', {}, cr.rollback_plan || '—'),
          h('dt', {}, 'Approval type'), h('dd', {}, cr.approval_type)))),
      pipeline(cr, envs, gatesByEnv),
      actionsSection(cr, envs, me, load, notice),
      gatesSection(envs, gatesByEnv),
      section('Approvals', table('', [
        {label: 'Environment', cell: (a) => a.environment},
        {label: 'Approver', cell: (a) => a.approver},
        {label: 'Role', cell: (a) => a.role},
        {label: 'At', cell: (a) => when(a.at)},
        {label: 'Counts', cell: (a) => (a.counts ? 'yes' : `no (revision ${a.revision})`)},
      ], cr.approvals, 'No approval yet.'),
      cr.rejections.length ? table('Rejections', [
        {label: 'Environment', cell: (r) => r.environment},
        {label: 'By', cell: (r) => r.person},
        {label: 'At', cell: (r) => when(r.at)},
        {label: 'Reason', cell: (r) => r.reason},
      ], cr.rejections) : null,
      table('Sign-offs', [
        {label: 'Environment', cell: (s) => s.environment},
        {label: 'Kind', cell: (s) => s.kind},
        {label: 'By', cell: (s) => `${s.person} (${s.role})`},
        {label: 'At', cell: (s) => when(s.at)},
      ], cr.signoffs, 'No sign-off yet.')),
      section('Runs', table('', [
        {label: 'Run', cell: (r) => recordLink(r.id)},
        {label: 'Environment', cell: (r) => r.environment},
        {label: 'State', cell: (r) => badge(r.state)},
        {label: 'Created', cell: (r) => when(r.created)},
        {label: 'Finished', cell: (r) => when(r.finished)},
      ], crRuns, 'No deployment has run for this change request.')),
      checklistSection(envs, checklists),
      section('Evidence and documents', table('Attachments', [
        {label: 'Kind', cell: (a) => a.kind},
        {label: 'File', cell: (a) => a.file_name},
        {label: 'Size', cell: (a) => `${a.size} bytes`},
        {label: 'SHA-256', cell: (a) => h('code', {}, a.sha256.slice(0, 16) + '…')},
        {label: 'Added', cell: (a) => `${a.added_by}, ${when(a.added_at)}`},
      ], cr.attachments, 'No attachment.'),
      table('Evidence', [
        {label: 'Environment', cell: (e) => e.environment},
        {label: 'Kind', cell: (e) => e.kind},
        {label: 'Result', cell: (e) => (e.passed === null ? '—' : badge(e.passed ? 'passed' : 'failed'))},
        {label: 'Detail', cell: (e) => e.detail},
        {label: 'Run', cell: (e) => recordLink(e.run) || '—'},
        {label: 'At', cell: (e) => when(e.at)},
      ], cr.evidence, 'No evidence recorded yet.')),
      documentSection(cr));
  };
  await load();
}
