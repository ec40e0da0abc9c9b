'use strict';
// Always runs, offline: the app definition validates with the SDK's own schema check and
// has the triggers and actions the seed lists, with the seed's labels.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { compileApp, validateApp } = require('zapier-platform-core/src/tools/schema');
const App = require('../index');
const { titleCase } = require('../lib/titlecase');

// The seed's words (shared/seed/kartra-zapier-integration.txt; cross-checked below when it is there),
// in title case by the app's one rule (lib/titlecase.js).
const SEED_TRIGGER_WORDS = [
  'Lead is assigned tag', 'Lead is unassigned tag', 'Lead subscribes to list', 'Lead is unsubscribed from list',
  'Lead fills opt-in form', 'Lead is added to sequence', 'Lead is removed from sequence', 'Lead completes sequence',
  'Lead clicks on a tracking link', 'Lead plays a Kartra video', 'Lead completes a Kartra video',
  'Lead reaches score for the first time', 'Affiliate signs up for product', 'JV signs up for product',
  'Lead is granted access to membership', 'Lead is revoked access to membership', 'Customer buys product',
  'Customer refunds product', 'Customer cancels subscription', 'Lead registers a calendar',
  'Lead completes a calendar', 'Lead cancels a calendar', 'Lead visits a Kartra page', 'Lead visits external page',
  'Lead clicks on page split test link', 'Customer partial refunds product',
];
const SEED_ACTION_WORDS = [
  'Retrieve all the tags in your account', 'Retrieve all the lists in your account', 'Unassign tag from lead',
  'Subscribe lead to list', 'Unsubscribe lead from list', 'Add points to lead', 'Remove points from lead',
  'Subscribe lead to sequence', 'Unsubscribe lead from sequence', 'Retrieve all the sequences in your account',
  'Retrieve all the pages in your account', 'Assign tag to lead', 'Refund a transaction', 'Cancel a subscription',
  'Subscribe lead to calendar', 'Cancel lead subscription to calendar', 'Create new lead', 'Edit lead',
  'Retrieve all the custom fields in your account', 'Create custom field', 'Retrieve lead details', 'Search lead',
];
const SEED_TRIGGERS = SEED_TRIGGER_WORDS.map(titleCase);
const SEED_ACTIONS = SEED_ACTION_WORDS.map(titleCase);
const EVENTS = [
  'assign_tag', 'unassign_tag', 'list_subscription', 'list_unsubscription', 'filled_form', 'sequence_subscription',
  'sequence_unsubscription', 'sequence_completion', 'tracking_link_click', 'video_play', 'video_complete',
  'reaches_score', 'affiliate_signup', 'jv_signup', 'membership_granted', 'membership_revoked', 'buy_product',
  'refund_product', 'cancel_subscription', 'calendar_subscribe', 'calendar_complete', 'calendar_cancel',
  'kartra_page_visit', 'external_page_visit', 'click_page_split_test_link', 'partial_refund_product',
];
const DROPDOWNS = [
  'tags', 'lists', 'sequences', 'pages', 'custom_fields', 'forms', 'videos', 'tracking_links', 'split_test_links',
  'calendars', 'calendar_classes', 'memberships', 'membership_levels', 'products', 'product_price_points',
];

const visible = Object.values(App.triggers).filter((t) => !t.display.hidden);
const hidden = Object.values(App.triggers).filter((t) => t.display.hidden);

test('the app definition validates with the SDK schema', () => {
  assert.deepEqual(validateApp(compileApp(App)), []);
});

test('title case: the seed words become the labels Zapier asks for (D018)', () => {
  assert.equal(titleCase('Lead plays a Kartra video'), 'Lead Plays a Kartra Video');
  assert.equal(titleCase('Lead fills opt-in form'), 'Lead Fills Opt-In Form');
  assert.equal(titleCase('Retrieve all the tags in your account'), 'Retrieve All the Tags in Your Account');
  assert.equal(titleCase('JV signs up for product'), 'JV Signs Up for Product');
  assert.equal(titleCase('Unassign tag from lead'), 'Unassign Tag From Lead');
});

test('26 instant REST-hook triggers, keyed by event, labelled as in the seed', () => {
  assert.deepEqual(visible.map((t) => t.key).sort(), [...EVENTS].sort());
  assert.deepEqual(visible.map((t) => t.display.label).sort(), [...SEED_TRIGGERS].sort());
  for (const t of visible) {
    const op = t.operation;
    assert.equal(op.type, 'hook', t.key);
    for (const fn of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
      assert.equal(typeof op[fn], 'function', `${t.key}.${fn}`);
    }
    assert.equal(op.sample.action, t.key);
    assert.deepEqual(Object.keys(op.sample), ['id', 'action', 'occurred_at', 'lead', 'action_details']);
    assert.ok(op.sample.action_details, `${t.key} has action_details`);
    for (const field of op.inputFields) {
      if (field.key === 'score') assert.equal(field.required, true);
      else assert.ok(!field.required && field.dynamic, `${t.key}.${field.key} is an optional dropdown`);
    }
  }
});

test('a hidden, paginated dropdown trigger for every asset kind, and every dropdown points at one', () => {
  assert.deepEqual(hidden.map((t) => t.key).sort(), DROPDOWNS.map((k) => `dropdown_${k}`).sort());
  hidden.forEach((t) => assert.equal(t.operation.canPaginate, true, t.key));
  const operations = [...Object.values(App.triggers), ...Object.values(App.creates)].map((x) => x.operation);
  for (const field of operations.flatMap((op) => op.inputFields || [])) {
    if (field.dynamic) assert.ok(App.triggers[field.dynamic.split('.')[0]], field.dynamic);
  }
});

test('the 22 actions of the seed, Find Lead / Transaction / Subscription searches, Find or Create Lead', () => {
  assert.deepEqual(Object.values(App.creates).map((c) => c.display.label).sort(), [...SEED_ACTIONS].sort());
  assert.deepEqual(Object.keys(App.searches), ['find_lead', 'find_transaction', 'find_subscription']);
  assert.deepEqual(App.searchOrCreates.find_lead, {
    key: 'find_lead',
    display: App.searchOrCreates.find_lead.display,
    search: 'find_lead',
    create: 'create_lead',
  });
  for (const c of Object.values(App.creates)) assert.equal(typeof c.operation.sample.message === 'string' ||
    typeof c.operation.sample.count === 'number', true, c.key);
});

test('authentication: custom, base_url + api_key + api_password, tested on /api/v1/me', () => {
  const auth = App.authentication;
  assert.equal(auth.type, 'custom');
  assert.deepEqual(auth.fields.map((f) => f.key), ['base_url', 'api_key', 'api_password']);
  assert.equal(auth.test.url, '/api/v1/me');
  assert.match(auth.connectionLabel, /account_name/);
});

test('the labels match the seed document itself, when it is beside the repository', (t) => {
  const seed = path.join(__dirname, '..', '..', '..', 'shared', 'seed', 'kartra-zapier-integration.txt');
  if (!fs.existsSync(seed)) return t.skip(`seed not found at ${seed}`);
  const text = fs.readFileSync(seed, 'utf8');
  const numbered = (after, before) =>
    text.slice(text.indexOf(after), text.indexOf(before, text.indexOf(after)))
      .split('\n').map((l) => l.match(/^\s*\d+\.\s+(.*\S)\s*$/)).filter(Boolean).map((m) => m[1]);
  assert.deepEqual(numbered('number of triggers', 'After selecting'), SEED_TRIGGER_WORDS);
  assert.deepEqual(numbered('number of actions', 'Once the type of action'), SEED_ACTION_WORDS);
});
