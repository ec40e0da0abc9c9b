'use strict';
// Everything about talking to the Kartra Integrations API v1: the connection
// (HTTP Basic with the API key and password), relative URLs, and turning the
// API's error shape {"message", "code", "fields"} into messages a Zapier user
// can act on. Paths and messages are fixed by the API contract.

const API = '/api/v1';

const NO_LEAD_FOUND = 'No lead found';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

// The API URL the owner pasted, checked: https, or plain http only to this machine (a service
// under development) or with KARTRA_ALLOW_HTTP=true (a development flag of the app's environment).
// The API key and password travel in every request: never in clear over a network.
const checkBaseUrl = (z, baseUrl) => {
  let url;
  try {
    url = new URL(String(baseUrl).trim());
  } catch {
    throw new z.errors.Error(
      `The Kartra API URL "${baseUrl}" is not a web address: paste it as shown on your API credentials page, ` +
        'e.g. https://app.kartra.com',
      'invalid_base_url',
      400,
    );
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (LOCAL_HOSTS.has(url.hostname) || process.env.KARTRA_ALLOW_HTTP === 'true')) return;
  throw new z.errors.Error(
    `The Kartra API URL must start with https:// (got "${url.protocol}//${url.host}"): your API key and ` +
      'password would otherwise travel unencrypted. Copy the https address from your API credentials page.',
    'insecure_base_url',
    400,
  );
};

// beforeRequest: authenticate and resolve `/api/v1/...` against the account's base URL.
const addAuthAndBaseUrl = (request, z, bundle) => {
  const { base_url: baseUrl, api_key: key, api_password: password } = bundle.authData || {};
  if (baseUrl) checkBaseUrl(z, baseUrl);
  if (baseUrl && !/^https?:\/\//i.test(request.url)) {
    request.url = baseUrl.replace(/\/+$/, '') + '/' + request.url.replace(/^\/+/, '');
  }
  if (key !== undefined && password !== undefined) {
    const token = Buffer.from(`${key}:${password}`).toString('base64');
    request.headers = { ...request.headers, Authorization: `Basic ${token}` };
  }
  request.headers = { Accept: 'application/json', ...request.headers };
  return request;
};

const fieldMessages = (fields) =>
  Object.entries(fields || {})
    .map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`)
    .join('; ');

// Throw the user-facing error for an API error response; return it untouched otherwise.
// 429 never gets here: core throws ThrottledError (honouring Retry-After) before
// afterResponse middleware runs.
const raiseForError = (z, response) => {
  if (response.status < 400) return response;
  const body = response.data && typeof response.data === 'object' ? response.data : {};
  const code = body.code || `http_${response.status}`;
  if (response.status === 401) {
    throw new z.errors.Error(
      'Kartra refused the API credentials: check your API key and API password ' +
        '(your API credentials page, /settings/api/) and reconnect the account.',
      'invalid_credentials',
      401,
    );
  }
  if (response.status === 403 && body.code === 'zapier_not_activated') {
    throw new z.errors.Error(
      'Zapier access is not activated yet for this Kartra account. Request activation in ' +
        'Kartra under My integrations (Zapier card); review starts within one business day ' +
        'and can take up to two weeks.',
      'zapier_not_activated',
      403,
    );
  }
  if (response.status === 400 && body.fields) {
    throw new z.errors.Error(
      `${body.message || 'Invalid input'}: ${fieldMessages(body.fields)}`,
      code,
      400,
    );
  }
  const message = body.message || body.detail || (response.content || '').slice(0, 200);
  throw new z.errors.Error(
    `Kartra answered ${response.status}: ${message || 'no details given'}`,
    code,
    response.status,
  );
};

// afterResponse: every API error becomes a clear z.errors.Error, unless the caller asked
// to see the response itself (skipThrowForStatus), e.g. to turn "No lead found" into output.
const handleErrors = (response, z) =>
  response.skipThrowForStatus ? response : raiseForError(z, response);

// True for the API's 404 "No lead found"; any other error is raised.
const isLeadNotFound = (z, response) => {
  if (response.status === 404 && response.data && response.data.code === 'lead_not_found') {
    return true;
  }
  raiseForError(z, response);
  return false;
};

module.exports = { API, NO_LEAD_FOUND, addAuthAndBaseUrl, checkBaseUrl, handleErrors, raiseForError, isLeadNotFound };
