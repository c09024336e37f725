// The API client: every call carries the signed-in person's token in the Authorization header
// (never in a URL). The token lives in sessionStorage: gone when the tab closes.

const TOKEN_KEY = 'rollgate.token';

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// A refusal by the server: its HTTP status and the JSON error (code, message, field).
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

function headers(token, json) {
  const out = {Accept: 'application/json'};
  if (token) out.Authorization = `Bearer ${token}`;
  if (json) out['Content-Type'] = 'application/json';
  return out;
}

async function errorOf(response) {
  let error = null;
  try {
    error = (await response.json()).error;
  } catch {
    // not JSON: fall back to the status line
  }
  if (response.status === 404 && !error) {
    return new ApiError(404, 'NOT_FOUND', 'this server does not offer that action yet', null);
  }
  return new ApiError(response.status, error?.code ?? 'HTTP_' + response.status,
    error?.message ?? `the server answered ${response.status} ${response.statusText}`,
    error?.field ?? null);
}

// Calls the API; the parsed JSON answer, or throws ApiError. A 401 signs out (the token was
// revoked or expired) unless `token` is given explicitly (sign-in checks a new one).
// `body` is sent as JSON; `json` is a JSON text sent as it is (an advisory file).
export async function api(path, {method = 'GET', body, json, token, signal} = {}) {
  const secret = token ?? storedToken();
  const response = await fetch(path, {
    method,
    headers: headers(secret, body !== undefined || json !== undefined),
    body: json ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal,
    cache: 'no-cache',
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && token === undefined) {
      forgetToken();
      window.dispatchEvent(new CustomEvent('rollgate:signed-out', {detail: error.message}));
    }
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

// Follows GET /api/v1/runs/{id}/events (Server-Sent Events over fetch, so the token stays in the
// header): calls onRun(run) for every `run` event until the stream ends or `signal` aborts.
export async function followRun(id, onRun, signal) {
  const response = await fetch(`/api/v1/runs/${encodeURIComponent(id)}/events`, {
    headers: {...headers(storedToken(), false), Accept: 'text/event-stream'},
    signal,
    cache: 'no-store',
  });
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;  // keep-alive comment
        if (line.startsWith('event:')) event = line.slice(6).trim();
        if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (!data.length) continue;
      const document = JSON.parse(data.join('\n'));
      if (event === 'run') onRun(document);
      if (event === 'error') {
        throw new ApiError(0, document.error?.code, document.error?.message, null);
      }
    }
  }
}
