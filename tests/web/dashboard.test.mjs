// The dashboard in headless Chromium (docs/dashboard.md), driven by playwright-core: sign-in, a
// live deployment, approving a CR, the action forms (start, roll back, cancel; a patch, an
// advisory, a CR, a document, a schedule; a refusal), read-only people, stopping the server with
// a stream open, and a screenshot of each page.
//
// Environment (set by CTest, tests/CMakeLists.txt):
//   ROLLGATE_BINARY       the rollgate binary under test
//   ROLLGATE_WEB_MODULES  the node_modules folder holding playwright-core (npm ci)
//   ROLLGATE_SCREENSHOTS  where the screenshots go
//   CHROMIUM              the browser (default /usr/bin/chromium)
//
// Everything runs in a temporary workspace on 127.0.0.1 with a port the kernel picks; every
// process started here is stopped in `after`, also when a test fails.
import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {fileURLToPath} from 'node:url';

const binary = process.env.ROLLGATE_BINARY;
const modules = process.env.ROLLGATE_WEB_MODULES;
const screenshots = process.env.ROLLGATE_SCREENSHOTS ?? path.join(os.tmpdir(), 'rollgate-screens');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(binary, 'ROLLGATE_BINARY must name the rollgate binary');
assert.ok(modules, 'ROLLGATE_WEB_MODULES must name the node_modules holding playwright-core');
const {chromium} = createRequire(path.join(modules, 'noop.js'))('playwright-core');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rollgate-web-'));
// The simulated hosts of the server's runs take no database password, but the configuration
// names one for billing's backups.
const env = {...process.env, ROLLGATE_CONFIG: path.join(work, 'rollgate.yaml'), TZ: 'UTC',
  BILLING_DB_PASSWORD: 'not-used-by-simulated-hosts'};
const advisory = fileURLToPath(new URL('../data/advisories/osv-critical-exploited.json',
  import.meta.url));
const started = [];  // child processes to stop in after()
let server = null;
let base = '';
let browser = null;
const tokens = {};

// Runs the CLI as `person` (arguments passed as an array: nothing goes through a shell).
function rg(person, ...args) {
  return execFileSync(binary, ['--as', person, ...args], {cwd: work, env, encoding: 'utf8'});
}

// The server executes the runs started through the API on simulated hosts (docs/server.md).
function startServer() {
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--output', 'json',
    '--transport', 'simulated'], {cwd: work, env, stdio: ['ignore', 'pipe', 'pipe']});
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 15000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve({child, port: JSON.parse(line).port});
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}

// Starts `rollgate run exec` in the background: `hosts` one after another, `steps` sleeps each.
function startRun(name, hosts, steps, seconds, extra = []) {
  const plan = path.join(work, `${name}.json`);
  fs.writeFileSync(plan, JSON.stringify({
    name, status_dir: path.join(work, `status-${name}`), batch: '1', concurrency: 1,
    phases: [{name: 'rollout', steps: steps.map((step) => ({
      name: step, idempotent: true, argv: ['sleep', String(seconds)]}))}],
  }));
  const child = spawn(binary, ['--as', 'heidi', 'run', 'exec', '--plan', plan, '--hosts',
    hosts.join(','), '--transport', 'local', ...extra], {cwd: work, env, stdio: 'ignore'});
  started.push(child);
  return child;
}

async function apiGet(pathname, token) {
  const response = await fetch(`${base}${pathname}`, {headers: {Authorization: `Bearer ${token}`}});
  return {status: response.status, body: await response.json()};
}

async function apiPost(pathname, token, body) {
  const response = await fetch(`${base}${pathname}`, {method: 'POST', body: JSON.stringify(body),
    headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}});
  return {status: response.status, body: await response.json()};
}

const runNumber = (id) => Number(id.replace('RUN-', ''));

// The id of the newest run (the highest number), or null.
async function newestRunId(token) {
  const {body} = await apiGet('/api/v1/runs?limit=500', token);
  const ids = body.items.map((r) => r.id).sort((a, b) => runNumber(b) - runNumber(a));
  return ids[0] ?? null;
}

// Waits for a run newer than `previous` (an id or null); its id.
async function newestRun(token, previous) {
  for (let i = 0; i < 100; ++i) {
    const id = await newestRunId(token);
    if (id && id !== previous) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no new run appeared');
}

async function signIn(page, person) {
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(tokens[person]);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByTestId('signed-in-as').waitFor();
}

// A PNG's width and height, from its IHDR chunk.
function pngSize(file) {
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return {width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), size: bytes.length};
}

async function screenshot(page, name) {
  const file = path.join(screenshots, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  const {width, height, size} = pngSize(file);
  assert.equal(width, 1280, `${name}: width`);
  assert.ok(height >= 720, `${name}: height ${height}`);
  // A blank page compresses to a few kilobytes; a rendered one is far larger.
  assert.ok(size > 12000, `${name}: ${size} bytes looks blank`);
  // Every page shows its heading and no error box.
  assert.ok((await page.locator('h1').first().textContent()).length > 0, `${name}: no heading`);
  assert.equal(await page.locator('.message-error').count(), 0, `${name}: shows an error`);
}

describe('dashboard', {concurrency: false}, () => {
  before(async () => {
    fs.mkdirSync(screenshots, {recursive: true});
    execFileSync(binary, ['init', work], {cwd: work, env, stdio: 'ignore'});
    const config = path.join(work, 'rollgate.yaml');
    // A short keep-alive, so that stopping the server does not wait 5 s for the browser's idle
    // connections (docs/server.md, "Stopping").
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('allow_as: false', 'allow_as: true') +
      '\nserver:\n  idle_timeout: 1s\n');
    for (const [file, text] of [['rollback.txt', 'Stop billing, reinstall 3.0.14, start.\n'],
      ['tests.txt', 'Smoke tests of the billing API.\n'], ['plan.txt', 'Install the package.\n']]) {
      fs.writeFileSync(path.join(work, file), text);
    }
    rg('heidi', 'patch', 'add', '--title', 'OpenSSL 3.0.15 security update', '--source',
      'vendor-advisory', '--cve', 'CVE-2024-5535', '--version', '3.0.15');
    rg('heidi', 'patch', 'add', '--title', 'Billing API 4.2.1 bug fixes', '--source',
      'development-team', '--version', '4.2.1');
    rg('heidi', 'cr', 'create', '--patch', 'PATCH-1', '--system', 'billing', '--type', 'security',
      '--description', 'Update OpenSSL on the billing hosts', '--risk',
      'Low: a library update and a service restart', '--rollback-plan', 'rollback.txt',
      '--test-plan', 'tests.txt', '--implementation-plan', 'plan.txt', '--duration', '1h',
      '--downtime', '5m');
    rg('heidi', 'cr', 'create', '--patch', 'PATCH-2', '--system', 'billing', '--type', 'standard',
      '--description', 'Billing API bug fixes <script>alert(1)</script>', '--duration', '30m');
    rg('heidi', 'cr', 'submit', 'CR-1');
    // CR-3 deploys a package (billing-2.4.1/app/..., the layout a deployment installs) to DEV:
    // submitted, approved and scheduled, so the server may start it.
    fs.mkdirSync(path.join(work, 'pkg', 'billing-2.4.1', 'app'), {recursive: true});
    fs.writeFileSync(path.join(work, 'pkg', 'billing-2.4.1', 'app', 'VERSION'), '2.4.1\n');
    execFileSync('tar', ['czf', 'billing-2.4.1.tar.gz', '-C', 'pkg', 'billing-2.4.1'], {cwd: work});
    rg('heidi', 'patch', 'add', '--title', 'Billing API 2.4.1', '--source', 'development-team',
      '--version', '2.4.1', '--package', 'billing-2.4.1.tar.gz');
    rg('heidi', 'cr', 'create', '--patch', 'PATCH-3', '--system', 'billing', '--type', 'standard',
      '--description', 'Billing API 2.4.1', '--risk', 'Low', '--rollback-plan', 'rollback.txt',
      '--test-plan', 'tests.txt', '--implementation-plan', 'plan.txt', '--duration', '30m');
    rg('heidi', 'cr', 'submit', 'CR-3');
    rg('alice', 'cr', 'approve', 'CR-3', '--env', 'DEV');
    rg('heidi', 'cr', 'schedule', 'CR-3', '--env', 'DEV', '--at',
      new Date(Date.now() + 5 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' '));
    const soon = new Date(Date.now() + 2 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
    rg('heidi', 'cr', 'schedule', 'CR-1', '--env', 'DEV', '--at', soon);
    for (const person of ['alice', 'heidi', 'judy']) {
      tokens[person] = JSON.parse(rg(person, '--output', 'json', 'token', 'create', '--label', 'web'))
        .token;
    }
    ({child: server} = await startServer().then((s) => {
      base = `http://127.0.0.1:${s.port}`;
      return s;
    }));
    browser = await chromium.launch({executablePath: chromiumPath, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']});
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(work, {recursive: true, force: true});
  });

  const newPage = async () => {
    const context = await browser.newContext({viewport: {width: 1280, height: 800}});
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    page.errors = errors;
    return page;
  };

  test('the pages are served with security headers and no token', async () => {
    const response = await fetch(`${base}/ui/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    const root = await fetch(`${base}/`, {redirect: 'manual'});
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), '/ui/');
  });

  test('sign in with a token; a wrong token is refused with a clear message', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await screenshot(page, 'signin');
    await page.getByLabel('API token').fill('rg_not-a-real-token');
    await page.getByRole('button', {name: 'Sign in'}).click();
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /That token was refused/);
    await page.getByLabel('API token').fill(tokens.alice);
    await page.getByRole('button', {name: 'Sign in'}).click();
    const who = page.getByTestId('signed-in-as');
    await who.waitFor();
    assert.match(await who.textContent(), /Alice Archer \(alice\)/);
    assert.match(await page.locator('.user-roles').textContent(), /development-lead/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('rollgate.token')), tokens.alice);
    await page.getByTestId('status-summary').waitFor();
    await page.getByRole('button', {name: 'Sign out'}).click();
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('rollgate.token')), null);
    // The browser logs the refused whoami (401) itself; nothing else may fail.
    assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
    await page.context().close();
  });

  test('an approver approves a CR; an engineer is refused with the server\'s message', async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await page.goto(`${base}/ui/#/crs/CR-1`);
    await page.getByRole('heading', {name: /CR-1:/}).waitFor();
    await page.locator('#approve-env').selectOption('DEV');
    await page.getByRole('button', {name: 'Approve', exact: true}).click();
    await page.locator('.action-feedback .message').waitFor();
    assert.equal(await page.locator('.action-feedback .message').textContent(), 'Approval: done.');
    const approvals = page.locator('section[aria-labelledby="section-approvals"] tbody tr');
    await approvals.first().waitFor();
    assert.match(await approvals.first().textContent(), /DEV.*alice.*development-lead/);
    const cr = (await apiGet('/api/v1/crs/CR-1', tokens.alice)).body;
    assert.equal(cr.approvals.length, 1);
    assert.equal(cr.approvals[0].approver, 'alice');
    await page.context().close();

    const engineer = await newPage();
    await signIn(engineer, 'heidi');
    await engineer.goto(`${base}/ui/#/crs/CR-1`);
    await engineer.locator('#approve-env').selectOption('TEST');
    await engineer.getByRole('button', {name: 'Approve', exact: true}).click();
    const refusal = engineer.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /Approval refused: .+/);
    await engineer.context().close();
  });

  test('a help-desk person sees no actions, and the server refuses them anyway', async () => {
    const page = await newPage();
    await signIn(page, 'judy');
    assert.match(await page.locator('.user-roles').textContent(), /read-only/);
    await page.goto(`${base}/ui/#/crs/CR-1`);
    await page.getByTestId('read-only-note').waitFor();
    assert.equal(await page.locator('#approve-env').count(), 0);
    const answer = await page.evaluate(async (token) => {
      const response = await fetch('/api/v1/crs/CR-1/approvals', {method: 'POST',
        headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'},
        body: JSON.stringify({environment: 'DEV'})});
      return {status: response.status, body: await response.json()};
    }, tokens.judy);
    assert.equal(answer.status, 403);
    assert.match(answer.body.error.message, /may read but not act/);
    // Data is text, never markup: CR-2's description holds a script tag.
    await page.goto(`${base}/ui/#/crs/CR-2`);
    await page.getByRole('heading', {name: /CR-2:/}).waitFor();
    assert.equal(await page.locator('main script').count(), 0);
    assert.ok((await page.locator('main').textContent()).includes('<script>alert(1)</script>'));
    await page.context().close();
  });

  test('a running deployment updates live without a reload', async () => {
    const page = await newPage();
    await signIn(page, 'heidi');
    const run = startRun('live', ['web-1', 'web-2', 'web-3'], ['stop', 'install', 'start'], 0.7,
      ['--system', 'billing', '--env', 'DEV', '--cr', 'CR-1']);
    const id = await newestRun(tokens.heidi, null);
    await page.goto(`${base}/ui/#/runs/${id}`);
    await page.getByTestId('timeline').waitFor();
    await page.evaluate(() => { window.loadedOnce = true; });
    const finishedBars = () => page.locator('svg.timeline rect.bar[data-state="succeeded"]').count();
    const first = await finishedBars();
    await page.waitForFunction((n) => document.querySelectorAll(
      'svg.timeline rect.bar[data-state="succeeded"]').length > n, first, {timeout: 20000});
    await screenshot(page, 'run-live');
    await page.getByTestId('live-state').filter({hasText: 'Finished: succeeded'})
      .waitFor({timeout: 60000});
    assert.equal(await finishedBars(), 9);
    assert.equal(await page.evaluate(() => window.loadedOnce), true, 'the page was reloaded');
    assert.match(await page.getByTestId('run-state').textContent(), /succeeded/);
    await new Promise((resolve) => (run.exitCode === null ? run.on('exit', resolve) : resolve()));
    await screenshot(page, 'run');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('Start deploys a CR through the server; Roll back and Cancel act on a run', async () => {
    const page = await newPage();
    await signIn(page, 'heidi');
    const previous = await newestRunId(tokens.heidi);
    await page.goto(`${base}/ui/#/crs/CR-3`);
    await page.getByRole('heading', {name: /CR-3:/}).waitFor();
    await page.locator('#start-env').selectOption('DEV');
    await page.getByRole('button', {name: 'Start', exact: true}).click();
    await page.waitForURL(/#\/runs\/RUN-\d+$/);
    const id = decodeURIComponent(page.url().split('#/runs/')[1]);
    assert.notEqual(id, previous);
    await page.getByTestId('live-state').filter({hasText: 'Finished: succeeded'})
      .waitFor({timeout: 30000});
    // What the server recorded: heidi's deployment of CR-3 to DEV, and its outcome on the CR.
    const run = (await apiGet(`/api/v1/runs/${id}`, tokens.heidi)).body;
    assert.equal(run.change_request, 'CR-3');
    assert.equal(run.environment, 'DEV');
    assert.equal(run.created_by, 'heidi');
    assert.equal(run.state, 'succeeded');
    assert.equal(run.transport, 'simulated');
    // The outcome is on the CR as soon as the run shows its end: both are one commit.
    const cr = (await apiGet('/api/v1/crs/CR-3', tokens.heidi)).body;
    assert.equal(cr.outcomes.DEV, 'succeeded');
    assert.ok(cr.evidence.some((e) => e.kind === 'deployment' && e.run === id && e.passed));
    assert.deepEqual(page.errors, []);
    await page.context().close();

    // A run in TEST (run exec, a long sleep) that took no backup: alice asks for its rollback,
    // which the server refuses before recording her authorisation (nothing to restore), then
    // she cancels the run.
    startRun('rollback', ['web-9'], ['wait'], 60,
      ['--system', 'billing', '--env', 'TEST', '--cr', 'CR-3']);
    const running = await newestRun(tokens.heidi, id);
    const lead = await newPage();
    await signIn(lead, 'alice');
    await lead.goto(`${base}/ui/#/runs/${running}`);
    await lead.getByTestId('live-state').filter({hasText: 'Live'}).waitFor();
    await lead.getByLabel('Reason').fill('error rate 4x after the restart');
    await lead.getByRole('button', {name: 'Roll back'}).click();
    const refused = lead.locator('form[aria-label="Roll back"] .message-error');
    await refused.waitFor();
    assert.match(await refused.textContent(),
      /Rollback refused: .*left no application backup to restore in TEST/);
    const authorised = (await apiGet('/api/v1/crs/CR-3', tokens.alice)).body.evidence
      .filter((e) => e.kind === 'rollback-authorisation');
    assert.deepEqual(authorised, []);

    await lead.getByRole('button', {name: 'Cancel the run'}).click();
    const asked = lead.locator('form[aria-label="Cancel"] .message-ok');
    await asked.waitFor();
    assert.equal(await asked.textContent(), 'Cancel: requested.');
    await lead.getByTestId('live-state').filter({hasText: 'Finished: cancelled'})
      .waitFor({timeout: 20000});
    const cancelled = (await apiGet(`/api/v1/runs/${running}`, tokens.alice)).body;
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.cancel_requested, true);
    // The form goes when the run is finished.
    assert.equal(await lead.locator('form[aria-label="Cancel"]').isHidden(), true);
    assert.deepEqual(lead.errors.filter((e) => !/status of 400/.test(e)), []);
    await lead.context().close();
  });

  test('a patch, an advisory, a CR, a document and a schedule, each through its form', async () => {
    const page = await newPage();
    await signIn(page, 'heidi');
    await page.getByRole('link', {name: 'Patches'}).click();
    await page.getByRole('heading', {name: 'Patches'}).waitFor();

    // New patch.
    await page.locator('#patch-title').fill('Invoice renderer 1.8.2');
    await page.locator('#patch-source').selectOption('security-team');
    await page.locator('#patch-version').fill('1.8.2');
    await page.locator('#patch-cves').fill('CVE-2026-1111, CVE-2026-2222');
    const references = ['https://security.example.org/a', 'https://security.example.org/b'];
    await page.locator('#patch-references').fill(references.join('\n'));
    await page.getByRole('button', {name: 'Add patch'}).click();
    const added = page.locator('.action-feedback .message-ok');
    await added.waitFor();
    const patchId = (await added.textContent()).match(/Added (PATCH-\d+)/)[1];
    const patch = (await apiGet(`/api/v1/patches/${patchId}`, tokens.heidi)).body;
    assert.equal(patch.title, 'Invoice renderer 1.8.2');
    assert.equal(patch.source, 'security-team');
    assert.equal(patch.version, '1.8.2');
    assert.deepEqual(patch.cves, ['CVE-2026-1111', 'CVE-2026-2222']);
    assert.deepEqual(patch.references, references);
    assert.equal(patch.created_by, 'heidi');
    // The list shows it without a reload.
    await page.locator('main tbody tr', {hasText: 'Invoice renderer 1.8.2'}).waitFor();

    // Import advisory: the file is read in the browser and posted as it is.
    await page.locator('#advisory-file').setInputFiles(advisory);
    await page.getByRole('button', {name: 'Import', exact: true}).click();
    await page.locator('.action-feedback .message-ok', {hasText: 'Imported'}).waitFor();
    const importedId = (await page.locator('.action-feedback .message-ok').textContent())
      .match(/Imported (PATCH-\d+)/)[1];
    const imported = (await apiGet(`/api/v1/patches/${importedId}`, tokens.heidi)).body;
    assert.deepEqual(imported.advisory, {format: 'osv', id: 'OSV-2026-0412'});
    assert.equal(imported.classification, 'P1');
    assert.equal(imported.emergency, true);
    assert.equal(imported.created_by, 'heidi');

    // Create CR, on the new patch's page.
    await page.getByRole('link', {name: patchId, exact: true}).click();
    await page.getByRole('heading', {name: new RegExp(`${patchId}:`)}).waitFor();
    await page.locator('#cr-system').fill('billing');
    await page.locator('#cr-type').selectOption('security');
    await page.locator('#cr-description').fill('Update the invoice renderer');
    await page.locator('#cr-risk').fill('Medium: the renderer restarts');
    await page.locator('#cr-implementation').fill('1. Install 1.8.2\n2. Restart the renderer\n');
    await page.locator('#cr-rollback').fill('Reinstall 1.8.1 and restart.\n');
    await page.locator('#cr-tests').fill('Render three sample invoices.\n');
    await page.locator('#cr-downtime').fill('15m');
    await page.locator('#cr-duration').fill('1h');
    await page.locator('#cr-complexity').selectOption('low');
    await page.getByRole('button', {name: 'Create CR'}).click();
    await page.waitForURL(/#\/crs\/CR-\d+$/);
    const crId = decodeURIComponent(page.url().split('#/crs/')[1]);
    await page.getByRole('heading', {name: new RegExp(`${crId}:`)}).waitFor();
    let cr = (await apiGet(`/api/v1/crs/${crId}`, tokens.heidi)).body;
    assert.equal(cr.patch_id, patchId);
    assert.equal(cr.system, 'billing');
    assert.equal(cr.type, 'security');
    assert.equal(cr.requester, 'heidi');
    assert.equal(cr.description, 'Update the invoice renderer');
    assert.equal(cr.risk_assessment, 'Medium: the renderer restarts');
    assert.equal(cr.implementation_plan, '1. Install 1.8.2\n2. Restart the renderer\n');
    assert.equal(cr.rollback_plan, 'Reinstall 1.8.1 and restart.\n');
    assert.equal(cr.test_plan, 'Render three sample invoices.\n');
    assert.equal(cr.expected_downtime_seconds, 900);
    assert.equal(cr.expected_duration_seconds, 3600);
    assert.equal(cr.rollback_complexity, 'low');

    // Attach document: any bytes, sent in base64.
    const bytes = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 10, 13, 0x3c]);
    await page.locator('#attach-kind').fill('security-impact-assessment');
    await page.locator('#attach-file').setInputFiles({name: 'impact.bin',
      mimeType: 'application/octet-stream', buffer: bytes});
    await page.getByRole('button', {name: 'Attach', exact: true}).click();
    await page.locator('.action-feedback .message-ok', {hasText: 'Attached impact.bin.'}).waitFor();
    cr = (await apiGet(`/api/v1/crs/${crId}`, tokens.heidi)).body;
    assert.equal(cr.attachments.length, 1);
    assert.equal(cr.attachments[0].kind, 'security-impact-assessment');
    assert.equal(cr.attachments[0].file_name, 'impact.bin');
    assert.equal(cr.attachments[0].size, bytes.length);
    assert.equal(cr.attachments[0].sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.equal(cr.attachments[0].added_by, 'heidi');

    // Schedule: the datetime-local value is read as UTC.
    const at = new Date(Date.now() + 50 * 3600 * 1000).toISOString().slice(0, 16);
    await page.locator('#schedule-env').selectOption('DEV');
    await page.locator('#schedule-at').fill(at);
    await page.getByRole('button', {name: 'Schedule', exact: true}).click();
    await page.locator('.action-feedback .message-ok', {hasText: 'Scheduled in DEV'}).waitFor();
    cr = (await apiGet(`/api/v1/crs/${crId}`, tokens.heidi)).body;
    assert.equal(cr.scheduled.DEV, `${at}:00Z`);
    assert.match(await page.locator('.stage[data-env="DEV"]').textContent(),
      new RegExp(`Scheduled ${at.replace('T', ' ')} UTC`));
    assert.deepEqual(page.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
    await page.context().close();
  });

  test('a refused form shows the server\'s message and the field it names', async () => {
    const page = await newPage();
    await signIn(page, 'heidi');
    await page.goto(`${base}/ui/#/patches`);
    await page.getByRole('heading', {name: 'Patches'}).waitFor();
    const before = (await apiGet('/api/v1/patches', tokens.heidi)).body.total;
    await page.locator('#patch-title').fill('A package from a mirror');
    await page.locator('#patch-package').fill('ftp://mirror.example.org/app.deb');
    await page.getByRole('button', {name: 'Add patch'}).click();
    const refusal = page.locator('form[aria-label="New patch"]').getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.textContent(),
      /^New patch refused: 'package_url' must be an https:\/\/ .+ \(field: package_url\)$/);
    assert.equal(await page.locator('#patch-package').getAttribute('aria-invalid'), 'true');
    assert.equal((await apiGet('/api/v1/patches', tokens.heidi)).body.total, before);
    await page.context().close();

    // Decide is always offered; with no trigger waiting, the server's 404 is shown.
    const lead = await newPage();
    await signIn(lead, 'alice');
    await lead.goto(`${base}/ui/#/crs/CR-3`);
    await lead.locator('#decide-env').selectOption('DEV');
    await lead.locator('#decide-decision').selectOption('continue');
    await lead.getByRole('button', {name: 'Record decision'}).click();
    const none = lead.locator('form[aria-label="Decide"]').getByRole('alert');
    await none.waitFor();
    assert.equal(await none.textContent(),
      'Decision refused: no rollback decision is pending for CR-3 in DEV');
    await lead.context().close();
  });

  test('the help desk sees none of the new forms', async () => {
    const page = await newPage();
    await signIn(page, 'judy');
    await page.goto(`${base}/ui/#/patches`);
    await page.locator('main tbody tr').first().waitFor();
    assert.equal(await page.locator('main form').count(), 0);
    await page.goto(`${base}/ui/#/patches/PATCH-1`);
    await page.getByRole('heading', {name: /PATCH-1:/}).waitFor();
    assert.equal(await page.locator('main form').count(), 0);
    await page.goto(`${base}/ui/#/crs/CR-3`);
    await page.getByTestId('read-only-note').waitFor();
    assert.equal(await page.locator('main form').count(), 0);
    const id = await newestRunId(tokens.judy);
    await page.goto(`${base}/ui/#/runs/${id}`);
    await page.getByTestId('timeline').waitFor();
    assert.equal(await page.locator('main form').count(), 0);
    // The server refuses them anyway.
    const refused = await apiPost('/api/v1/patches', tokens.judy, {title: 't', source: 'security-team'});
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /may read but not act/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('the pipeline follows the configured order of the environments', async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await page.goto(`${base}/ui/#/crs/CR-1`);
    await page.locator('.stage').first().waitFor();
    assert.deepEqual(await page.locator('.stage').evaluateAll(
      (stages) => stages.map((s) => s.dataset.env)), ['DEV', 'TEST', 'PROD']);
    // The order comes from the CR document's `environments` (the configuration's order), not
    // from the names: UAT before STAGING stays so.
    const cr = (await apiGet('/api/v1/crs/CR-1', tokens.alice)).body;
    assert.deepEqual(cr.environments, ['DEV', 'TEST', 'PROD']);
    const order = await page.evaluate(async () => {
      const {configuredOrder} = await import('/ui/pages/crs.js');
      return configuredOrder({outcomes: {DEV: 'none', PROD: 'none', STAGING: 'none', UAT: 'none'},
        environments: ['DEV', 'UAT', 'STAGING', 'PROD']});
    });
    assert.deepEqual(order, ['DEV', 'UAT', 'STAGING', 'PROD']);
    await page.context().close();
  });

  test('a screenshot of each page', async () => {
    rg('heidi', 'cr', 'schedule', 'CR-2', '--env', 'DEV', '--at',
      new Date(Date.now() + 26 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' '));
    const page = await newPage();
    await signIn(page, 'alice');
    const pages = [['status', '#/status', 'status-summary'], ['crs', '#/crs', null],
      ['cr', '#/crs/CR-1', null], ['runs', '#/runs', null], ['calendar', '#/calendar', null],
      ['audit', '#/audit', null], ['patches', '#/patches', null]];
    for (const [name, hash, testId] of pages) {
      await page.goto(`${base}/ui/${hash}`);
      await page.locator('main h1').first().waitFor();
      if (testId) await page.getByTestId(testId).waitFor();
      await page.locator('main table, main .empty, main .status-list').first().waitFor();
      await screenshot(page, name);
    }
    // The page of one patch, with its Create CR and Reclassify forms.
    await page.goto(`${base}/ui/#/patches/PATCH-1`);
    await page.getByRole('heading', {name: /PATCH-1:/}).waitFor();
    await page.locator('form[aria-label="Create CR"]').waitFor();
    await screenshot(page, 'patch');
    assert.match(await page.goto(`${base}/ui/#/status`).then(() =>
      page.getByTestId('status-summary').textContent()), /right now/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('SIGTERM stops the server promptly while a live stream is open', async () => {
    const page = await newPage();
    await signIn(page, 'heidi');
    const previous = await newestRunId(tokens.heidi);
    startRun('long', ['db-1'], ['wait'], 60);
    const id = await newestRun(tokens.heidi, previous);
    await page.goto(`${base}/ui/#/runs/${id}`);
    await page.getByTestId('live-state').filter({hasText: 'Live'}).waitFor();
    const stopped = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
    const asked = Date.now();
    server.kill('SIGTERM');
    const code = await Promise.race([stopped,
      new Promise((resolve) => setTimeout(() => resolve('hung'), 10000))]);
    assert.equal(code, 0);
    // The stream ends within 300 ms, idle keep-alive connections within idle_timeout (1 s).
    assert.ok(Date.now() - asked < 4000, `stopping took ${Date.now() - asked} ms`);
    await page.context().close();
  });
});
