'use strict';
// Always runs, offline: the app's requests and error handling against a fake API on loopback
// (canned answers in the shapes of the API contract).
const test = require('node:test');
const assert = require('node:assert/strict');
const { App, run, startServer, errorMessage, nonLoopbackConnections } = require('./support');

const routes = {
  'GET /api/v1/me': { json: { account_id: 1, account_name: 'Acme', email: 'owner@example.com' } },
  'GET /api/v1/tags?page=1&page_size=100': { json: { count: 1, next: null, previous: null, results: [{ id: 3, name: 'Customer' }] } },
  'GET /api/v1/tags?page=2&page_size=100': { status: 404, json: { detail: 'Invalid page.' } },
  'GET /api/v1/calendars?page=1&page_size=500': {
    json: { count: 1, next: null, results: [{ id: 10, name: 'Coaching', classes: [{ id: 11, name: 'Intro call' }] }] },
  },
  'GET /api/v1/calendars?page=1&page_size=100': {
    json: { count: 1, next: null, results: [{ id: 10, name: 'Coaching', classes: [{ id: 11, name: 'Intro call' }] }] },
  },
  'POST /api/v1/hooks': { status: 201, json: { id: 42, event: 'assign_tag' } },
  'DELETE /api/v1/hooks/42': { status: 204 },
  'GET /api/v1/hooks/samples/assign_tag?tag=3': { json: [App.triggers.assign_tag.operation.sample] },
  'POST /api/v1/actions/assign_tag': { status: 404, json: { message: 'No lead found', code: 'lead_not_found' } },
  'POST /api/v1/actions/unassign_tag': { status: 404, json: { message: 'Tag "X" does not exist', code: 'tag_not_found' } },
  'POST /api/v1/actions/create_lead': {
    status: 400,
    json: { message: 'Invalid input', code: 'invalid', fields: { email: ['Enter a valid email address.'] } },
  },
  'POST /api/v1/actions/give_points_to_lead': { status: 429, headers: { 'retry-after': '7' }, json: {} },
  'GET /api/v1/leads/search?email=nobody%40example.com': { json: { message: 'No lead found', lead: null } },
};

let api;
test.before(async () => {
  api = await startServer((req) => routes[`${req.method} ${req.url}`] || { status: 500, json: { message: 'unrouted' } });
});
test.after(() => api.close());
const auth = () => ({ base_url: `${api.url}/`, api_key: 'key', api_password: 'secret' });

test('auth test: relative URL against base_url, HTTP Basic api_key:api_password', async () => {
  const me = await run(App.authentication.test, auth());
  assert.equal(me.account_name, 'Acme');
  const req = api.requests.at(-1);
  assert.equal(req.url, '/api/v1/me');
  assert.equal(req.headers.authorization, `Basic ${Buffer.from('key:secret').toString('base64')}`);
});

test('401 and 403 zapier_not_activated become clear messages', async () => {
  routes['GET /api/v1/me'] = { status: 401, json: { message: 'Invalid API credentials', code: 'invalid_credentials' } };
  await assert.rejects(run(App.authentication.test, auth()), (e) => /check your API key and API password/.test(errorMessage(e)));
  routes['GET /api/v1/me'] = {
    status: 403, json: { message: 'Zapier access has not been activated for this account', code: 'zapier_not_activated' },
  };
  await assert.rejects(run(App.authentication.test, auth()), (e) =>
    /not activated yet/.test(errorMessage(e)) && /My integrations/.test(errorMessage(e)));
});

test('400 shows the field messages; other errors show the API message; 429 is throttled', async () => {
  await assert.rejects(run(App.creates.create_lead.operation.perform, auth(), { email: 'bad' }),
    (e) => /email: Enter a valid email address\./.test(errorMessage(e)));
  await assert.rejects(run(App.creates.unassign_tag.operation.perform, auth(), { email: 'a@b.c', tag: 'X' }),
    (e) => /Tag "X" does not exist/.test(errorMessage(e)));
  await assert.rejects(run(App.creates.give_points_to_lead.operation.perform, auth(), { email: 'a@b.c', points: '5' }),
    (e) => e.name === 'ThrottledError' && JSON.parse(e.message).delay === 7);
  assert.deepEqual(api.requests.at(-1).body, { email: 'a@b.c', points: 5 }); // numbers sent as numbers
});

test('an action on a missing lead outputs "No lead found" instead of failing', async () => {
  const out = await run(App.creates.assign_tag.operation.perform, auth(), { email: 'nobody@example.com', tag: '3' });
  assert.deepEqual(out, { message: 'No lead found', lead: null });
  assert.deepEqual(await run(App.searches.find_lead.operation.perform, auth(), { lead: 'nobody@example.com' }), []);
});

test('hook trigger: subscribe body, sample list with the filter, unsubscribe, perform', async () => {
  const op = App.triggers.assign_tag.operation;
  const sub = await run(op.performSubscribe, auth(), { tag: '3' }, { targetUrl: 'https://hooks.example/1' });
  assert.equal(sub.id, 42);
  assert.deepEqual(api.requests.at(-1).body, { event: 'assign_tag', target_url: 'https://hooks.example/1', filter: { tag: '3' } });
  assert.equal((await run(op.performList, auth(), { tag: '3' })).length, 1);
  await run(op.performUnsubscribe, auth(), {}, { subscribeData: sub });
  assert.equal(api.requests.at(-1).method, 'DELETE');
  const delivered = op.sample;
  assert.deepEqual(await run(op.perform, auth(), {}, { cleanedRequest: delivered }), [delivered]);
});

test('dropdowns paginate (DRF is 1-based, past the end is empty) and children follow their parent', async () => {
  const tags = App.triggers.dropdown_tags.operation.perform;
  assert.deepEqual(await run(tags, auth(), {}, { meta: { page: 0 } }), [{ id: 3, name: 'Customer' }]);
  assert.deepEqual(await run(tags, auth(), {}, { meta: { page: 1 } }), []);
  const classes = App.triggers.dropdown_calendar_classes.operation.perform;
  assert.deepEqual(await run(classes, auth(), { calendar: '10' }, { meta: { page: 0 } }), [{ id: 11, name: 'Intro call' }]);
  assert.deepEqual(await run(classes, auth(), {}, { meta: { page: 0 } }), [{ id: 11, name: 'Coaching / Intro call' }]);
});

test('the API URL must be https, except to this machine', async () => {
  const insecure = { base_url: 'http://integrations.example.com', api_key: 'key', api_password: 'secret' };
  await assert.rejects(run(App.authentication.test, insecure),
    (e) => /must start with https:\/\//.test(errorMessage(e)) && /unencrypted/.test(errorMessage(e)));
  await assert.rejects(run(App.authentication.test, { ...insecure, base_url: 'app.kartra.com' }),
    (e) => /not a web address/.test(errorMessage(e)));
  routes['GET /api/v1/me'] = { json: { account_id: 1, account_name: 'Acme', email: 'owner@example.com' } };
  const before = api.requests.length;
  assert.equal((await run(App.authentication.test, auth())).account_name, 'Acme'); // http://127.0.0.1 is fine
  assert.equal(api.requests.length, before + 1);
});

test('Find Lead takes an email or an id and returns the lead itself (top-level id)', async () => {
  routes['GET /api/v1/leads/1042'] = { json: App.searches.find_lead.operation.sample };
  const [lead] = await run(App.searches.find_lead.operation.perform, auth(), { lead: '1042' });
  assert.equal(lead.id, 1042);
  await assert.rejects(run(App.searches.find_lead.operation.perform, auth(), { lead: 'Jane' }),
    (e) => /email address or the lead ID/.test(errorMessage(e)));
});

test('Find Transaction and Find Subscription query the list endpoints by email or id', async () => {
  const txn = App.searches.find_transaction.operation.sample;
  routes['GET /api/v1/transactions?page=1&page_size=10&lead_email=jane%40example.com&kind=sale'] = { json: { results: [txn] } };
  const [found] = await run(App.searches.find_transaction.operation.perform, auth(), { query: 'jane@example.com', kind: 'sale' });
  assert.equal(found.id, txn.id);
  routes['GET /api/v1/subscriptions?page=1&page_size=10&id=7'] = { json: { results: [] } };
  assert.deepEqual(await run(App.searches.find_subscription.operation.perform, auth(), { query: '7' }), []);
});

test('custom fields become one input each, options offered by name, sent under custom_fields', async () => {
  const fields = [
    { id: 7, identifier: 'color', type: 'input_field', options: [] },
    { id: 8, identifier: 'plan', type: 'drop_down', options: [{ id: 21, name: 'Free' }, { id: 22, name: 'Paid' }] },
    { id: 9, identifier: 'topics', type: 'checkbox', options: [{ id: 31, name: 'Yoga' }, { id: 32, name: 'Golf' }] },
  ];
  routes['GET /api/v1/custom-fields?page=1&page_size=500'] = { json: { next: null, results: fields } };
  const dynamic = App.creates.create_lead.operation.inputFields.find((f) => typeof f === 'function');
  const inputs = await run(dynamic, auth());
  assert.deepEqual(inputs.map((i) => [i.key, i.choices, i.list]), [
    ['custom_field__color', undefined, undefined],
    ['custom_field__plan', ['Free', 'Paid'], undefined],
    ['custom_field__topics', ['Yoga', 'Golf'], true],
  ]);
  inputs.forEach((i) => assert.ok(i.helpText, i.key));
  routes['POST /api/v1/actions/create_lead'] = { status: 201, json: { message: 'Lead created', lead: {} } };
  await run(App.creates.create_lead.operation.perform, auth(),
    { email: 'a@b.c', custom_field__plan: 'Paid', custom_field__topics: ['Golf'], custom_field__color: '' });
  assert.deepEqual(api.requests.at(-1).body, { email: 'a@b.c', custom_fields: { plan: 'Paid', topics: ['Golf'] } });
});

test('assign tag sends create_if_missing as a boolean', async () => {
  routes['POST /api/v1/actions/assign_tag'] = { json: { message: 'Tag added to lead', lead: {} } };
  await run(App.creates.assign_tag.operation.perform, auth(), { email: 'a@b.c', tag: 'New', create_if_missing: 'yes' });
  assert.deepEqual(api.requests.at(-1).body, { email: 'a@b.c', tag: 'New', create_if_missing: true });
});

test('no request left loopback', () => {
  assert.deepEqual(nonLoopbackConnections(), []);
});
