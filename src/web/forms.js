// Action forms. Each form posts to the API and, when the server refuses, shows its message and
// the field it names next to the form, and marks that field's control. The server decides; the
// page only asks.
import {api, ApiError} from './api.js';
import {clear, h, message} from './dom.js';

// A labelled control; `hint` is a line of help under it.
export function field(label, control, hint) {
  return h('div', {class: 'field'}, h('label', {for: control.id}, label), control,
    hint ? h('span', {class: 'hint muted'}, hint) : null);
}

// The control answering to the request field `name`: its own name, or one of its data-fields
// (a file input stands for `file_name` and `content_base64`).
function controlFor(form, name) {
  for (const control of form.querySelectorAll('[name], [data-fields]')) {
    if (control.name === name || (control.dataset.fields || '').split(' ').includes(name)) {
      return control;
    }
  }
  return null;
}

// Shows why `label` failed: "Schedule refused: <message> (field: at)".
export function showRefusal(form, feedback, label, error) {
  const refused = error instanceof ApiError;
  const text = `${label} ${refused ? 'refused' : 'failed'}: ${error.message}` +
    (error.field ? ` (field: ${error.field})` : '');
  feedback.append(message('error', text));
  const control = error.field ? controlFor(form, error.field) : null;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  }
}

// A form with a heading, its fields and a submit button. On submit, `request(form)` gives the
// call: {path, body} (sent as JSON) or {path, json} (a JSON text sent as it is); it may be async
// (a file is read) and may throw. `done(answer, feedback)` follows a success.
// Options: title, label (in messages; the title by default), button (its text), buttonClass,
// attrs (more attributes of the form).
export function actionForm({title, label = title, button = title, buttonClass = 'button-primary',
  attrs = {}}, fields, request, done) {
  const feedback = h('div', {class: 'form-feedback', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: buttonClass}, button);
  const form = h('form', {class: 'action', 'aria-label': title, ...attrs},
    h('h3', {}, title), fields, submit, feedback);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(feedback);
    for (const control of form.querySelectorAll('[aria-invalid]')) {
      control.removeAttribute('aria-invalid');
    }
    submit.disabled = true;
    try {
      const {path, ...call} = await request(form);
      const answer = await api(path, {method: 'POST', ...call});
      await done(answer, feedback);
    } catch (error) {
      showRefusal(form, feedback, label, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// The text of a chosen file, or an error when none is chosen.
export async function fileText(input) {
  const file = input.files[0];
  if (!file) throw new Error('choose a file first');
  return file.text();
}

// The bytes of a chosen file in base64 (RFC 4648), and its name.
export async function fileBase64(input) {
  const file = input.files[0];
  if (!file) throw new Error('choose a file first');
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return {name: file.name, base64: btoa(binary)};
}

// "a, b c" -> ['a', 'b', 'c']: a list typed on one line, split at commas and spaces.
export function words(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

// Lines of a textarea, blank ones left out.
export function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}
