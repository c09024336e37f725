// Patches: the list with "New patch" and "Import advisory", and one patch with "Create CR" and
// "Reclassify". Read-only people see the patches and no form.
import {api} from '../api.js';
import {badge, fill, h, message, section, table, when} from '../dom.js';
import {actionForm, field, fileText, lines, words} from '../forms.js';
import {pager} from './crs.js';

const SOURCES = ['vendor-advisory', 'security-team', 'development-team', 'change-management'];
const CRITERIA = ['active-exploitation', 'cvss-critical', 'service-availability',
  'regulatory-directive', 'business-impact'];
const PRIORITIES = ['P1', 'P2', 'P3', 'P4'];

const patchLink = (id) => h('a', {href: `#/patches/${encodeURIComponent(id)}`}, id);

function newPatchForm(done) {
  const input = (id, name, attrs = {}) => h('input', {id, name, ...attrs});
  const title = input('patch-title', 'title', {required: true,
    placeholder: 'OpenSSL 3.0.15 security update'});
  const source = h('select', {id: 'patch-source', name: 'source'},
    SOURCES.map((s) => h('option', {value: s}, s)));
  const version = input('patch-version', 'version', {placeholder: '3.0.15'});
  const cves = input('patch-cves', 'cves', {placeholder: 'CVE-2024-5535, CVE-2024-6119'});
  const cvss = input('patch-cvss', 'cvss_vectors', {placeholder: 'CVSS:3.1/AV:N/AC:L/…'});
  const exploited = input('patch-exploited', 'exploited', {type: 'checkbox'});
  const criteria = h('select', {id: 'patch-criteria', name: 'criteria', multiple: true, size: 3},
    CRITERIA.map((c) => h('option', {value: c}, c)));
  const references = h('textarea', {id: 'patch-references', name: 'references', rows: 2,
    placeholder: 'one URL a line'});
  const notes = h('textarea', {id: 'patch-notes', name: 'release_notes', rows: 3});
  const packageUrl = input('patch-package', 'package_url', {type: 'url',
    placeholder: 'https://repo.example.org/openssl_3.0.15.deb'});
  const sha256 = input('patch-sha256', 'package_sha256', {placeholder: '64 hex digits'});
  const signature = input('patch-signature', 'signature', {type: 'file',
    accept: '.minisig,.sig,text/plain'});
  return actionForm({title: 'New patch', label: 'New patch', button: 'Add patch',
    attrs: {class: 'action action-wide', 'data-testid': 'new-patch'}}, [
    h('div', {class: 'form-grid'},
      field('Title', title), field('Source', source), field('Version', version),
      field('CVEs', cves, 'separated by commas or spaces'),
      field('CVSS vectors', cvss, 'separated by spaces'),
      field('Emergency criteria', criteria, 'Ctrl-click for several'),
      h('div', {class: 'field field-check'}, exploited,
        h('label', {for: 'patch-exploited'}, 'Exploited in the wild')),
      field('References', references), field('Release notes', notes),
      field('Package URL', packageUrl, 'the server downloads it; no path on the server'),
      field('Package SHA-256', sha256),
      field('Signature (minisign file)', signature))],
  async () => {
    const body = {title: title.value.trim(), source: source.value};
    if (version.value.trim()) body.version = version.value.trim();
    if (cves.value.trim()) body.cves = words(cves.value);
    if (cvss.value.trim()) body.cvss_vectors = words(cvss.value);
    if (exploited.checked) body.exploited = true;
    const chosen = [...criteria.selectedOptions].map((o) => o.value);
    if (chosen.length) body.criteria = chosen;
    if (references.value.trim()) body.references = lines(references.value);
    if (notes.value.trim()) body.release_notes = notes.value;
    if (packageUrl.value.trim()) body.package_url = packageUrl.value.trim();
    if (sha256.value.trim()) body.package_sha256 = sha256.value.trim();
    if (signature.files.length) body.signature = await fileText(signature);
    return {path: '/api/v1/patches', body};
  },
  (patch) => done(`Added ${patch.id}: ${patch.title} (${patch.classification}).`, patch.id));
}

function importForm(done) {
  const file = h('input', {id: 'advisory-file', name: 'advisory', type: 'file', required: true,
    accept: '.json,application/json'});
  return actionForm({title: 'Import advisory', label: 'Import', button: 'Import',
    attrs: {'data-testid': 'import-advisory'}}, [
    field('OSV or CSAF 2.0 file', file, 'read in this browser and sent as it is'),
  ], async () => ({path: '/api/v1/advisories', json: await fileText(file)}),
  (patch) => {
    const fired = patch.triggers.length;
    const runs = patch.responses.filter((r) => r.run).map((r) => r.run);
    done(`Imported ${patch.id}: ${patch.title} (${patch.classification}).` +
      (fired ? ` ${fired} security trigger${fired === 1 ? '' : 's'} fired` +
        (runs.length ? `; rollback started: ${runs.join(', ')}.` : '; a decision was asked for.') : ''),
    patch.id);
  });
}

export async function patchListPage(view, {me, params, signal}) {
  const offset = Number(params.get('offset') || 0);
  const notice = h('div', {'aria-live': 'polite', class: 'action-feedback'});
  const list = h('div');
  const load = async () => {
    const page = await api(`/api/v1/patches?limit=25&offset=${offset}`, {signal});
    fill(list, h('section', {class: 'card'}, table('', [
      {label: 'Patch', cell: (p) => patchLink(p.id), class: 'nowrap'},
      {label: 'Title', cell: (p) => p.title},
      {label: 'Source', cell: (p) => p.source},
      {label: 'Version', cell: (p) => p.version || '—'},
      {label: 'CVEs', cell: (p) => p.cves.join(', ') || '—'},
      {label: 'Class', cell: (p) => [badge(p.classification), p.emergency ? badge('emergency') : null]},
      {label: 'CVSS', cell: (p) => (p.cvss ? `${p.cvss.base_score} ${p.cvss.severity}` : '—')},
      {label: 'Added', cell: (p) => `${p.created_by}, ${when(p.created_at)}`},
    ], page.items, 'No patch yet.'), pager(page, (o) => `#/patches?offset=${o}`)));
  };
  const added = async (text, id) => {
    await load();
    fill(notice, h('p', {class: 'message message-ok', role: 'status'}, text, ' ',
      h('a', {href: `#/patches/${encodeURIComponent(id)}`}, `Open ${id}`)));
  };
  view.append(h('h1', {}, 'Patches'), notice, list);
  await load();
  if (!me.read_only) {
    view.append(section('Add a patch', h('div', {class: 'actions'},
      newPatchForm(added), importForm(added))));
  }
}

function createCrForm(patch) {
  const input = (id, name, attrs = {}) => h('input', {id, name, ...attrs});
  const area = (id, name, placeholder) => h('textarea', {id, name, rows: 3, placeholder});
  const select = (id, name, values, chosen) => h('select', {id, name},
    values.map((v) => h('option', {value: v, selected: v === chosen}, v)));
  const system = input('cr-system', 'system', {required: true, placeholder: 'billing'});
  const type = select('cr-type', 'type', ['standard', 'security', 'infrastructure'],
    patch.cves.length ? 'security' : 'standard');
  const description = area('cr-description', 'description', 'What changes and why');
  const risk = area('cr-risk', 'risk', 'Low: a library update and a service restart');
  const implementation = area('cr-implementation', 'implementation_plan', 'The steps, in order');
  const rollback = area('cr-rollback', 'rollback_plan', 'How to undo it');
  const tests = area('cr-tests', 'test_plan', 'How to tell it works');
  const downtime = input('cr-downtime', 'downtime', {placeholder: '15m'});
  const duration = input('cr-duration', 'duration', {placeholder: '1h'});
  const complexity = select('cr-complexity', 'rollback_complexity', ['', 'low', 'medium', 'high'], '');
  complexity.firstChild.textContent = 'as configured';
  return actionForm({title: 'Create CR', label: 'Create CR', button: 'Create CR',
    attrs: {class: 'action action-wide', 'data-testid': 'create-cr'}}, [
    h('div', {class: 'form-grid'},
      field('System', system), field('Type', type),
      field('Downtime', downtime, 'e.g. 15m; none when empty'), field('Duration', duration, 'e.g. 1h'),
      field('Rollback complexity', complexity),
      field('Description', description), field('Risk assessment', risk),
      field('Implementation plan', implementation), field('Rollback plan', rollback),
      field('Test plan', tests))],
  () => {
    const body = {patch: patch.id, system: system.value.trim(), type: type.value};
    const optional = [['description', description], ['risk', risk],
      ['implementation_plan', implementation], ['rollback_plan', rollback], ['test_plan', tests],
      ['downtime', downtime], ['duration', duration], ['rollback_complexity', complexity]];
    for (const [name, control] of optional) {
      if (control.value.trim()) body[name] = control.value;
    }
    return {path: '/api/v1/crs', body};
  },
  (cr) => { location.hash = `#/crs/${encodeURIComponent(cr.id)}`; });
}

function reclassifyForm(patch, reload) {
  const priority = h('select', {id: 'patch-priority', name: 'priority'},
    PRIORITIES.map((p) => h('option', {value: p, selected: p === patch.classification}, p)));
  const justification = h('input', {id: 'patch-justification', name: 'justification',
    required: true, placeholder: 'why the computed class is wrong'});
  return actionForm({title: 'Reclassify', label: 'Reclassification', button: 'Reclassify',
    attrs: {'data-testid': 'reclassify'}}, [
    field('Priority', priority), field('Justification', justification)],
  () => ({path: `/api/v1/patches/${encodeURIComponent(patch.id)}/classification`,
    body: {priority: priority.value, justification: justification.value}}),
  (answer) => reload(`Reclassified as ${answer.classification}.`));
}

export async function patchPage(view, {me, signal}, id) {
  const load = async (notice) => {
    const patch = await api(`/api/v1/patches/${encodeURIComponent(id)}`, {signal});
    const list = (items) => (items.length ? h('ul', {class: 'plain-list'},
      items.map((i) => h('li', {}, i))) : '—');
    fill(view,
      h('p', {class: 'crumbs'}, h('a', {href: '#/patches'}, 'Patches'), ' / ', patch.id),
      h('header', {class: 'page-head'},
        h('h1', {}, `${patch.id}: ${patch.title}`),
        h('div', {class: 'badges'}, badge(patch.classification),
          patch.emergency ? badge('emergency') : null, badge(patch.source, 'neutral'))),
      notice ? message('ok', notice) : null,
      h('div', {class: 'grid-2'},
        section('Patch', h('dl', {class: 'facts'},
          h('dt', {}, 'Classification'),
          h('dd', {}, `${patch.classification} — ${patch.classification_name}`),
          h('dt', {}, 'Why'), h('dd', {}, patch.classification_reasons.join('; ') || '—'),
          patch.override ? [h('dt', {}, 'Override'), h('dd', {},
            `${patch.override.by}, from ${patch.override.computed}: ` +
            patch.override.justification)] : null,
          h('dt', {}, 'Emergency'), h('dd', {}, patch.emergency
            ? `yes: ${patch.emergency_reasons.join('; ')}` : 'no'),
          h('dt', {}, 'Version'), h('dd', {}, patch.version || '—'),
          h('dt', {}, 'CVEs'), h('dd', {}, patch.cves.join(', ') || '—'),
          h('dt', {}, 'CVSS'), h('dd', {}, patch.cvss
            ? `${patch.cvss.base_score} ${patch.cvss.severity} (${patch.cvss.vector})` : 'not scored'),
          h('dt', {}, 'Exploited'), h('dd', {}, patch.exploited ? 'yes' : 'no'),
          h('dt', {}, 'Advisory'), h('dd', {}, patch.advisory
            ? `${patch.advisory.id} (${patch.advisory.format})` : '—'),
          h('dt', {}, 'Added'), h('dd', {}, `${patch.created_by}, ${when(patch.created_at)}`))),
        section('Package and references', h('dl', {class: 'facts'},
          h('dt', {}, 'Package'), h('dd', {}, patch.package
            ? `${patch.package.file_name}, ${patch.package.size_bytes} bytes` : 'none'),
          patch.package ? [
            h('dt', {}, 'SHA-256'), h('dd', {}, h('code', {}, patch.package.sha256)),
            h('dt', {}, 'Signature'), h('dd', {}, patch.package.signature_verified
              ? `verified (key ${patch.package.signing_key_id})` : 'not verified'),
            h('dt', {}, 'From'), h('dd', {}, patch.package.source_url || '—')] : null,
          h('dt', {}, 'References'), h('dd', {}, list(patch.references))))),
      me.read_only ? null : section('Actions', h('div', {class: 'actions'},
        createCrForm(patch), reclassifyForm(patch, load))));
  };
  await load();
}
