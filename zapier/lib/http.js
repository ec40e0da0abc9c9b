'use strict';
// Everything about talking to the Kartra Integrations API v1: the connection
// (HTTP Basic with the API key and password), relative URLs, and turning the
// API's error shape {"message", "code", "fields"} into messages a Zapier user
// can act on. Paths and messages are fixed by the API contract (issues 2, 4, 5).

const API = '/api/v1';

const NO_LEAD_FOUND = 'No lead found';

// beforeRequest: authenticate and resolve `/api/v1/...` against the account's base URL.
const addAuthAndBaseUrl = (request, z, bundle) => {
  const { base_url: baseUrl, api_key: key, api_password: password } = bundle.authData || {};
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
        '(Settings > Integrations > My API) and reconnect the account.',
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

module.exports = { API, NO_LEAD_FOUND, addAuthAndBaseUrl, handleErrors, raiseForError, isLeadNotFound };
