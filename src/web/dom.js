// Small DOM helpers. Every text reaches the page through textContent or attributes, never as
// HTML, so data from the server cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  return node;
}

// h('a', {href: '#/crs'}, 'Change requests'): an HTML element with attributes and children.
export function h(tag, attrs, ...children) {
  return append(setAttributes(document.createElement(tag), attrs), children);
}

// The same for SVG elements.
export function s(tag, attrs, ...children) {
  return append(setAttributes(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// Replaces the children of `node` (null, undefined and false children are left out).
export function fill(node, ...children) {
  return append(clear(node), children);
}

// "2026-11-30 09:00 UTC" from an RFC 3339 time, or "—".
export function when(iso, withSeconds = false) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const text = date.toISOString().replace('T', ' ');
  return `${text.slice(0, withSeconds ? 19 : 16)} UTC`;
}

// "1 h 5 min", "42 s".
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

// A coloured label for a state ("succeeded", "in-progress", "P1" ...).
export function badge(text, kind) {
  const tone = kind || String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('span', {class: ['badge', `badge-${tone}`]}, text);
}

// A link to a record when the text names one ("CR-3", "RUN-7", "PATCH-2"), else the text.
export function recordLink(id) {
  if (typeof id !== 'string') return id ?? '—';
  if (/^CR-\d+$/.test(id)) return h('a', {href: `#/crs/${id}`}, id);
  if (/^PATCH-\d+$/.test(id)) return h('a', {href: `#/patches/${id}`}, id);
  if (/^RUN-\d+$/.test(id)) return h('a', {href: `#/runs/${id}`}, id);
  return id;
}

// A table: columns [{label, cell(row) -> node|text, class}], with a caption and an empty message.
export function table(caption, columns, rows, empty = 'Nothing to show.') {
  if (!rows.length) return h('p', {class: 'muted empty'}, empty);
  return h('div', {class: 'table-wrap'},
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c.label)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => h('td', {class: c.class}, c.cell(row))))))));
}

// A section with a heading.
export function section(title, ...children) {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, title), ...children);
}

// A message box: kind 'error' (role alert), 'ok' or 'info' (role status).
export function message(kind, text) {
  return h('p', {class: ['message', `message-${kind}`], role: kind === 'error' ? 'alert' : 'status'},
    text);
}

// Environments in promotion order: DEV, TEST, then the rest, PROD last.
export function promotionOrder(names) {
  const rank = (n) => {
    const l = n.toLowerCase();
    if (l.startsWith('dev')) return 0;
    if (l.startsWith('test') || l.startsWith('qa')) return 1;
    if (l.startsWith('prod')) return 3;
    return 2;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
