// The dashboard: sign-in, navigation and hash routing (#/patches, #/patches/PATCH-1, #/crs,
// #/crs/CR-1, #/runs/RUN-1, #/calendar, #/audit, #/status). Each page module renders into <main>.
import {api, ApiError, forgetToken, storeToken, storedToken} from './api.js';
import {clear, fill, h, message} from './dom.js';
import {auditPage} from './pages/audit.js';
import {calendarPage} from './pages/calendar.js';
import {crDetailPage, crListPage} from './pages/crs.js';
import {patchListPage, patchPage} from './pages/patches.js';
import {runListPage, runPage} from './pages/runs.js';
import {statusPage} from './pages/status.js';

const routes = [
  [/^\/status$/, statusPage, 'status'],
  [/^\/patches$/, patchListPage, 'patches'],
  [/^\/patches\/([^/]+)$/, patchPage, 'patches'],
  [/^\/crs$/, crListPage, 'crs'],
  [/^\/crs\/([^/]+)$/, crDetailPage, 'crs'],
  [/^\/runs$/, runListPage, 'runs'],
  [/^\/runs\/([^/]+)$/, runPage, 'runs'],
  [/^\/calendar$/, calendarPage, 'calendar'],
  [/^\/audit$/, auditPage, 'audit'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const userBox = document.getElementById('user');
let me = null;             // whoami of the signed-in person
let navigation = null;     // aborts the previous page's requests and streams

function signOut(reason) {
  forgetToken();
  me = null;
  renderSignIn(reason);
}

function renderUser() {
  nav.hidden = false;
  userBox.hidden = false;
  fill(userBox, 
    h('span', {class: 'user-name', 'data-testid': 'signed-in-as'},
      h('strong', {}, me.full_name || me.person), ` (${me.person})`),
    h('span', {class: 'user-roles'}, me.roles.join(', ') + (me.read_only ? ' · read-only' : '')),
    h('button', {type: 'button', class: 'button-quiet', onclick: () => signOut()}, 'Sign out'));
}

function renderSignIn(reason) {
  if (navigation) navigation.abort();
  nav.hidden = true;
  userBox.hidden = true;
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, spellcheck: 'false', placeholder: 'rg_…', 'aria-describedby': 'token-help'});
  const feedback = h('div', {'aria-live': 'polite'});
  if (reason) feedback.append(message('error', reason));
  const form = h('form', {class: 'signin card', 'aria-labelledby': 'signin-title'},
    h('h1', {id: 'signin-title'}, 'Sign in to Rollgate'),
    h('label', {for: 'token'}, 'API token'),
    input,
    h('p', {id: 'token-help', class: 'muted'},
      'Create one with ', h('code', {}, 'rollgate token create'),
      '. It is kept in this browser tab only and sent in the Authorization header.'),
    feedback,
    h('button', {type: 'submit', class: 'button-primary'}, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(feedback);
    const token = input.value.trim();
    try {
      me = await api('/api/v1/whoami', {token});
      storeToken(token);
      renderUser();
      if (!location.hash || location.hash === '#/' || location.hash === '#') {
        location.hash = '#/status';
      } else {
        route();
      }
    } catch (error) {
      const text = error instanceof ApiError && error.status === 401
        ? `That token was refused: ${error.message}`
        : `Could not sign in: ${error.message}`;
      feedback.append(message('error', text));
      input.focus();
    }
  });
  fill(main, form);
  input.focus();
}

function notFound(path) {
  return h('section', {class: 'card'}, h('h1', {}, 'Page not found'),
    h('p', {}, `There is no page ${path}. `, h('a', {href: '#/status'}, 'Go to the status page.')));
}

async function route() {
  if (!me) return;
  if (navigation) navigation.abort();
  navigation = new AbortController();
  const hash = location.hash.replace(/^#/, '') || '/status';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  for (const link of nav.querySelectorAll('a')) link.removeAttribute('aria-current');
  for (const [pattern, page, sectionName] of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    nav.querySelector(`a[data-section="${sectionName}"]`)?.setAttribute('aria-current', 'page');
    const view = h('div', {class: 'page'});
    fill(main, view);
    const context = {me, params, signal: navigation.signal, go: (to) => { location.hash = to; }};
    try {
      await page(view, context, ...match.slice(1).map(decodeURIComponent));
    } catch (error) {
      if (error.name === 'AbortError') return;
      view.append(message('error', error.message));
    }
    return;
  }
  fill(main, notFound(path));
}

window.addEventListener('hashchange', route);
window.addEventListener('rollgate:signed-out', (event) => signOut(
  `You were signed out: ${event.detail}`));

async function start() {
  const token = storedToken();
  if (!token) return renderSignIn();
  try {
    me = await api('/api/v1/whoami', {token});
  } catch (error) {
    return signOut(error.status === 401 ? `Please sign in again: ${error.message}` : error.message);
  }
  renderUser();
  route();
}

start();
