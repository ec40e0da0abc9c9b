'use strict';
/*
 * Live tests: the app, run by Zapier's own SDK (createAppTester), against a running
 * Kartra Integrations service. Skipped, with a message, when ZAPIER_TEST_BASE_URL is unset.
 *
 * Environment (the caller starts the service, its Celery worker, and creates the accounts):
 *   ZAPIER_TEST_BASE_URL              e.g. http://127.0.0.1:8000 (must be loopback)
 *   ZAPIER_TEST_API_KEY               an approved account created with
 *   ZAPIER_TEST_API_PASSWORD            `manage.py create_account --zapier-approved --demo-data`
 *   ZAPIER_TEST_PLATFORM_API_KEY      the same account's platform events credential (its
 *   ZAPIER_TEST_PLATFORM_API_PASSWORD   platform_api_key / platform_api_password): POST /api/v1/events
 *                                     refuses the Zapier key
 *   ZAPIER_TEST_UNAPPROVED_API_KEY    an account without Zapier approval (the unapproved test
 *   ZAPIER_TEST_UNAPPROVED_API_PASSWORD  is skipped when these are unset)
 *   ZAPIER_TEST_DELIVERY_TIMEOUT_MS   how long to wait for a hook delivery (default 30000)
 * The service must allow http/loopback hook targets (HOOKS_ALLOW_PRIVATE_TARGETS=true):
 * the tests serve Zapier's target URLs themselves, on 127.0.0.1.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { App, run, startServer, errorMessage, nonLoopbackConnections } = require('./support');
const { TRIGGERS } = require('../lib/triggers');
const { WRITES, RETRIEVES } = require('../lib/creates');
const { assetField } = require('../lib/fields');

const env = process.env;
const BASE = env.ZAPIER_TEST_BASE_URL;
const DELIVERY_TIMEOUT = Number(env.ZAPIER_TEST_DELIVERY_TIMEOUT_MS || 30000);
const SKIP = !BASE && 'ZAPIER_TEST_BASE_URL is not set: live tests against the service are skipped (see zapier/README.md)';

const auth = { base_url: BASE, api_key: env.ZAPIER_TEST_API_KEY, api_password: env.ZAPIER_TEST_API_PASSWORD };
// The platform's own parts report events with the account's other credential, not Zapier's.
const platformAuth = {
  base_url: BASE, api_key: env.ZAPIER_TEST_PLATFORM_API_KEY, api_password: env.ZAPIER_TEST_PLATFORM_API_PASSWORD,
};

// The standard demo assets of `create_account --demo-data`, by exact name.
const DEMO = {
  tag: 'Customer', list: 'Newsletter', form: 'Lead magnet', sequence: 'Onboarding', tracking_link: 'Promo',
  video: 'Welcome', page: 'Sales page', split_test_link: 'Hero test', calendar: 'Coaching', class: 'Intro call',
  membership: 'Academy', level: 'Basic', product: 'Course',
};
const PARENT = { class: 'calendar', level: 'membership', price_point: 'product' };
const DROPDOWN_NAMES = {
  dropdown_tags: 'Customer', dropdown_lists: 'Newsletter', dropdown_sequences: 'Onboarding', dropdown_pages: 'Sales page',
  dropdown_forms: 'Lead magnet', dropdown_videos: 'Welcome', dropdown_tracking_links: 'Promo',
  dropdown_split_test_links: 'Hero test', dropdown_calendars: 'Coaching', dropdown_memberships: 'Academy',
  dropdown_products: 'Course', dropdown_calendar_classes: 'Intro call', dropdown_membership_levels: 'Basic',
};

const op = (type, key) => App[type][key].operation;
const act = (command, input) => run(op('creates', command).perform, auth, input);
const tomorrow = () => new Date(Date.now() + 86400e3).toISOString();
const unique = () => crypto.randomUUID().slice(0, 8);
const newEmail = () => `zap-${Date.now()}-${unique()}@example.com`;
const newLead = async () => (await act('create_lead', { email: newEmail(), first_name: 'Zap' })).lead;

// An asset's id as a Zapier user would pick it: from the field's dynamic dropdown.
const ids = {};
const idOf = async (key, inputData = {}) => {
  const cacheKey = `${key}:${JSON.stringify(inputData)}`;
  if (ids[cacheKey]) return ids[cacheKey];
  const perform = App.triggers[assetField(key).dynamic.split('.')[0]].operation.perform;
  for (let page = 0; page < 20; page++) {
    const items = await run(perform, auth, inputData, { meta: { page } });
    const found = items.find((i) => i.name === DEMO[key]);
    if (found) return (ids[cacheKey] = String(found.id));
    if (!items.length) break;
  }
  throw new Error(`${key} "${DEMO[key]}" is not in its dropdown: does the account have the demo data?`);
};
// Resolve the demo assets named in `keys` to ids (children with their parent chosen).
const assets = async (...keys) => {
  const input = {};
  for (const key of keys) {
    const parent = PARENT[key];
    input[key] = await idOf(key, parent ? { [parent]: input[parent] || (await idOf(parent)) } : {});
  }
  return input;
};

// Other parts of the platform (checkout, video player, page tracker, affiliate centre,
// membership area, sequence engine, calendar beat job) report through POST /api/v1/events.
// ASSUMED BODY (not fixed yet; adjust here): {"event": <action name>, "email": <lead email>,
// <asset key>: <asset name>, ...}, assets named like the actions' inputs.
const platformEvent = (event, lead, fields = {}) =>
  run((z) => z.request({ url: '/api/v1/events', method: 'POST', body: { event, email: lead.email, ...fields } })
    .then((r) => r.data), platformAuth);

let catcher;
// Subscribe a hook on the catcher; returns {sub, path, op}.
const subscribe = async (event, inputData = {}) => {
  const path = `/hooks/${event}/${unique()}`;
  const trigger = op('triggers', event);
  const sub = await run(trigger.performSubscribe, auth, inputData, { targetUrl: catcher.url + path });
  return { sub, path, trigger };
};
// Other tests act on other leads of the same account at the same time: wait for this lead's event.
const delivery = (path, email) =>
  catcher.waitFor((r) => r.url === path && r.body && r.body.lead && r.body.lead.email === email, DELIVERY_TIMEOUT);

// Buy the demo product through the checkout's entry point; the transaction id comes from
// the buy_product delivery, as a Zap would get it.
const buy = async (lead, pricePoint = 1) => {
  const { sub, path, trigger } = await subscribe('buy_product');
  await platformEvent('buy_product', lead, { product: DEMO.product, price_point: pricePoint });
  const { body } = await delivery(path, lead.email);
  await run(trigger.performUnsubscribe, auth, {}, { subscribeData: sub });
  return String(body.action_details.transaction_details.transaction_id);
};

const lead = (l) => ({ email: l.email });
// How each trigger's event is caused, through the service's real entry points. One table.
const CAUSES = {
  assign_tag: async (l) => act('assign_tag', { ...lead(l), ...(await assets('tag')) }),
  unassign_tag: async (l) => {
    await act('assign_tag', { ...lead(l), ...(await assets('tag')) });
    await act('unassign_tag', { ...lead(l), ...(await assets('tag')) });
  },
  list_subscription: async (l) => act('subscribe_lead_to_list', { ...lead(l), ...(await assets('list')) }),
  list_unsubscription: async (l) => {
    await act('subscribe_lead_to_list', { ...lead(l), ...(await assets('list')) });
    await act('unsubscribe_lead_from_list', { ...lead(l), ...(await assets('list')) });
  },
  filled_form: (l) => platformEvent('filled_form', l, { form: DEMO.form }),
  sequence_subscription: async (l) => act('subscribe_lead_to_sequence_at_step', { ...lead(l), ...(await assets('sequence')) }),
  sequence_unsubscription: async (l) => {
    await act('subscribe_lead_to_sequence_at_step', { ...lead(l), ...(await assets('sequence')) });
    await act('unsubscribe_lead_from_sequence', { ...lead(l), ...(await assets('sequence')) });
  },
  sequence_completion: async (l) => {
    await act('subscribe_lead_to_sequence_at_step', { ...lead(l), ...(await assets('sequence')) });
    await platformEvent('sequence_completion', l, { sequence: DEMO.sequence });
  },
  tracking_link_click: (l) => platformEvent('tracking_link_click', l, { tracking_link: DEMO.tracking_link }),
  video_play: (l) => platformEvent('video_play', l, { video: DEMO.video }),
  video_complete: (l) => platformEvent('video_complete', l, { video: DEMO.video }),
  reaches_score: (l) => act('give_points_to_lead', { ...lead(l), points: 60 }),
  affiliate_signup: (l) => platformEvent('affiliate_signup', l, { product: DEMO.product }),
  jv_signup: (l) => platformEvent('jv_signup', l, { product: DEMO.product }),
  membership_granted: (l) => platformEvent('membership_granted', l, { membership: DEMO.membership, level: DEMO.level }),
  membership_revoked: async (l) => {
    await platformEvent('membership_granted', l, { membership: DEMO.membership, level: DEMO.level });
    await platformEvent('membership_revoked', l, { membership: DEMO.membership });
  },
  buy_product: (l) => platformEvent('buy_product', l, { product: DEMO.product }),
  refund_product: async (l) => act('refund_transaction', { transaction_id: await buy(l) }),
  partial_refund_product: async (l) => act('refund_transaction', { transaction_id: await buy(l), amount: 10 }),
  // Price point 2 of the demo course is the monthly plan: buying it starts a subscription.
  cancel_subscription: async (l) => {
    await platformEvent('buy_product', l, { product: DEMO.product, price_point: 2 });
    await platformEvent('cancel_subscription', l, { product: DEMO.product });
  },
  calendar_subscribe: async (l) => act('calendar_subscribe', { ...lead(l), ...(await assets('calendar', 'class')), starts_at: tomorrow() }),
  calendar_cancel: async (l) => {
    await act('calendar_subscribe', { ...lead(l), ...(await assets('calendar', 'class')), starts_at: tomorrow() });
    await act('calendar_cancel', { ...lead(l), ...(await assets('calendar', 'class')) });
  },
  calendar_complete: async (l) => {
    await act('calendar_subscribe', { ...lead(l), ...(await assets('calendar', 'class')), starts_at: tomorrow() });
    await platformEvent('calendar_complete', l, { calendar: DEMO.calendar, class: DEMO.class });
  },
  kartra_page_visit: (l) => platformEvent('kartra_page_visit', l, { page: DEMO.page }),
  external_page_visit: (l) => platformEvent('external_page_visit', l, { url: 'https://example.com/landing' }),
  click_page_split_test_link: (l) => platformEvent('click_page_split_test_link', l, { split_test_link: DEMO.split_test_link }),
};
const SCORE = 50; // reaches_score filter; CAUSES gives 60 points to a fresh lead

// Key paths of nested objects, recursively; an array's items (when it has any) merged into one
// shape: what "same shape as the sample" means. The static samples (lib/samples.json) come from the
// service's payload builders, so a real delivery must have exactly their keys, for all 26 events.
const shape = (obj, prefix = '') =>
  Object.entries(obj || {}).flatMap(([k, v]) => {
    if (Array.isArray(v)) {
      const items = v.filter((i) => i && typeof i === 'object' && !Array.isArray(i));
      return [prefix + k + '[]', ...new Set(items.flatMap((i) => shape(i, `${prefix}${k}[].`)))];
    }
    return v && typeof v === 'object' ? shape(v, `${prefix}${k}.`) : [prefix + k];
  }).sort();
// Arrays the live lead may leave empty are compared on their items only when both have some.
const withoutEmptyLists = (paths, other) => paths.filter((p) => !p.includes('[].') ||
  other.some((q) => q.startsWith(p.slice(0, p.lastIndexOf('[].') + 3))));
const assertLikeSample = (item, sample) => {
  const got = shape(item);
  const want = shape(sample);
  assert.deepEqual(withoutEmptyLists(got, want), withoutEmptyLists(want, got), 'payload keys = sample keys');
  assert.deepEqual(shape(item.action_details), shape(sample.action_details), 'action_details keys');
};

describe('live: the app against the running service', { skip: SKIP }, () => {
  before(async () => {
    assert.ok(env.ZAPIER_TEST_API_KEY && env.ZAPIER_TEST_API_PASSWORD,
      'ZAPIER_TEST_API_KEY and ZAPIER_TEST_API_PASSWORD must be set with ZAPIER_TEST_BASE_URL');
    assert.match(new URL(BASE).hostname, /^(127\.0\.0\.1|localhost|\[::1\])$/, 'ZAPIER_TEST_BASE_URL must be loopback');
    catcher = await startServer(() => ({ json: { status: 'success' } }));
  });
  after(() => catcher && catcher.close());

  describe('authentication', () => {
    test('success: GET /api/v1/me gives the account name for the connection label', async () => {
      const me = await run(App.authentication.test, auth);
      assert.ok(me.account_name, 'account_name');
    });
    test('wrong password: "check your API key and API password"', async () => {
      await assert.rejects(run(App.authentication.test, { ...auth, api_password: 'wrong' }),
        (e) => /check your API key and API password/.test(errorMessage(e)));
    });
    test('unapproved account: not activated yet, request it in My integrations', async (t) => {
      if (!env.ZAPIER_TEST_UNAPPROVED_API_KEY) return t.skip('ZAPIER_TEST_UNAPPROVED_API_KEY is not set');
      const unapproved = { base_url: BASE, api_key: env.ZAPIER_TEST_UNAPPROVED_API_KEY,
        api_password: env.ZAPIER_TEST_UNAPPROVED_API_PASSWORD };
      await assert.rejects(run(App.authentication.test, unapproved),
        (e) => /not activated yet/.test(errorMessage(e)) && /My integrations/.test(errorMessage(e)));
    });
  });

  describe('dropdowns', () => {
    for (const [key, name] of Object.entries(DROPDOWN_NAMES)) {
      test(`${key} lists "${name}"`, async () => {
        const parentKey = Object.keys(PARENT).find((k) => assetField(k).dynamic.startsWith(`${key}.`));
        const input = parentKey ? { [PARENT[parentKey]]: await idOf(PARENT[parentKey]) } : {};
        const first = await run(op('triggers', key).perform, auth, input, { meta: { page: 0 } });
        assert.ok(first.some((i) => i.name === name && i.id !== undefined), `${name} in ${JSON.stringify(first)}`);
        assert.ok(Array.isArray(await run(op('triggers', key).perform, auth, input, { meta: { page: 1 } })));
      });
    }
    for (const key of ['dropdown_custom_fields', 'dropdown_product_price_points']) {
      test(`${key} lists items with id and name`, async () => {
        const items = await run(op('triggers', key).perform, auth, {}, { meta: { page: 0 } });
        assert.ok(items.length > 0 && items.every((i) => i.id !== undefined && i.name), JSON.stringify(items));
      });
    }
  });

  describe('actions and searches', () => {
    test("the seed's Filter chain: No lead found -> create -> assign tag -> Lead found", async () => {
      const email = newEmail();
      assert.equal((await act('search_lead', { email })).message, 'No lead found');
      assert.deepEqual(await run(op('searches', 'find_lead').perform, auth, { lead: email }), []);
      const created = await act('create_lead', { email, first_name: 'Ann' });
      assert.equal(created.message, 'Lead created');
      assert.equal(created.lead.email, email);
      assert.equal((await act('assign_tag', { email, ...(await assets('tag')) })).message, 'Tag added to lead');
      const found = await act('search_lead', { email });
      assert.equal(found.message, 'Lead found');
      assert.ok(JSON.stringify(found.lead.tags).includes(DEMO.tag), 'the lead has the tag');
      const [viaSearch] = await run(op('searches', 'find_lead').perform, auth, { lead: email });
      assert.equal(viaSearch.email, email);
      const [byId] = await run(op('searches', 'find_lead').perform, auth, { lead: String(viaSearch.id) });
      assert.equal(byId.email, email);
    });

    test('every write action succeeds with its message', async () => {
      const l = await newLead();
      const inputs = {
        create_lead: async () => ({ email: newEmail(), first_name: 'Bo' }),
        edit_lead: async () => ({ ...lead(l), first_name: 'Anna' }),
        assign_tag: async () => ({ ...lead(l), ...(await assets('tag')) }),
        unassign_tag: async () => ({ ...lead(l), ...(await assets('tag')) }),
        subscribe_lead_to_list: async () => ({ ...lead(l), ...(await assets('list')) }),
        unsubscribe_lead_from_list: async () => ({ ...lead(l), ...(await assets('list')) }),
        give_points_to_lead: async () => ({ ...lead(l), points: 5, expiration_days: 30 }),
        remove_points_from_lead: async () => ({ ...lead(l), points: 2 }),
        subscribe_lead_to_sequence_at_step: async () => ({ ...lead(l), ...(await assets('sequence')), step: 1 }),
        unsubscribe_lead_from_sequence: async () => ({ ...lead(l), ...(await assets('sequence')) }),
        calendar_subscribe: async () => ({ ...lead(l), ...(await assets('calendar', 'class')), starts_at: tomorrow() }),
        calendar_cancel: async () => ({ ...lead(l), ...(await assets('calendar', 'class')) }),
        refund_transaction: async () => ({ transaction_id: await buy(l) }),
        create_custom_field: async () => ({ identifier: `zap_${unique()}`, type: 'drop_down', options: ['Yes', 'No'] }),
      };
      for (const [command, , , , , message] of WRITES.filter(([c]) => c !== 'cancel_transaction')) {
        const out = await act(command, await inputs[command]());
        assert.equal(out.message, message, command);
      }
    });

    test('cancel a subscription: the one a purchase of the monthly plan started, then a refusal', async () => {
      const l = await newLead();
      const { sub, path, trigger } = await subscribe('buy_product');
      await platformEvent('buy_product', l, { product: DEMO.product, price_point: 2 });
      const { body } = await delivery(path, l.email);
      await run(trigger.performUnsubscribe, auth, {}, { subscribeData: sub });
      const subscriptionId = String(body.action_details.transaction_details.transaction_internal_subscription_id);
      assert.equal((await act('cancel_transaction', { subscription_id: subscriptionId })).message, 'Subscription cancelled');
      await assert.rejects(act('cancel_transaction', { subscription_id: subscriptionId }),
        (e) => !/answered 5\d\d/.test(errorMessage(e)) && errorMessage(e).length > 0);
    });

    test('an action on a missing lead outputs "No lead found" and does not fail', async () => {
      const missing = { email: newEmail() };
      const extra = {
        assign_tag: await assets('tag'), unassign_tag: await assets('tag'),
        subscribe_lead_to_list: await assets('list'), unsubscribe_lead_from_list: await assets('list'),
        give_points_to_lead: { points: 1 }, remove_points_from_lead: { points: 1 },
        subscribe_lead_to_sequence_at_step: await assets('sequence'), unsubscribe_lead_from_sequence: await assets('sequence'),
        calendar_subscribe: { ...(await assets('calendar', 'class')), starts_at: tomorrow() },
        calendar_cancel: await assets('calendar', 'class'), edit_lead: { first_name: 'X' },
      };
      for (const [command] of WRITES.filter(([, , , , onLead]) => onLead)) {
        assert.deepEqual(await act(command, { ...missing, ...extra[command] }), { message: 'No lead found', lead: null }, command);
      }
      assert.equal((await act('retrieve_lead_details', missing)).message, 'No lead found');
      assert.equal((await act('retrieve_lead_details', { lead_id: '999999999' })).message, 'No lead found');
    });

    test('retrieve lead details by id and by email', async () => {
      const l = await newLead();
      for (const input of [{ lead_id: String(l.id) }, { email: l.email }]) {
        const out = await act('retrieve_lead_details', input);
        assert.equal(out.message, 'Lead found');
        assert.equal(out.lead.email, l.email);
      }
    });

    test('the "Retrieve all the ..." actions list the account assets', async () => {
      const expected = { retrieve_tags: ['Customer', 'VIP'], retrieve_lists: ['Newsletter', 'Webinar'],
        retrieve_sequences: ['Onboarding'], retrieve_pages: ['Sales page'], retrieve_custom_fields: [] };
      for (const [key] of RETRIEVES) {
        const out = await act(key, {});
        assert.ok(out.count >= Math.max(1, expected[key].length), key);
        for (const name of expected[key]) assert.ok(out.names.split(', ').includes(name), `${key}: ${name}`);
      }
    });

    test('create lead twice: "Lead already exists"; bad input shows the field message', async () => {
      const l = await newLead();
      await assert.rejects(act('create_lead', { email: l.email }), (e) => /Lead already exists/.test(errorMessage(e)));
      await assert.rejects(act('create_lead', { email: 'not-an-email' }), (e) => /email/.test(errorMessage(e)));
    });
  });

  describe('the owner\'s Zaps: price point filter, custom fields by name, searches feeding actions', () => {
    test('a price-point filter (the id the dropdown gives) fires for that price point only', async () => {
      const product = await idOf('product');
      const points = await run(op('triggers', 'dropdown_product_price_points').perform, auth, { product }, { meta: { page: 0 } });
      const monthly = points.find((p) => p.number === 2);
      assert.ok(monthly, JSON.stringify(points));
      const { sub, path, trigger } = await subscribe('buy_product', { product, price_point: String(monthly.id) });
      const l = await newLead();
      await platformEvent('buy_product', l, { product: DEMO.product, price_point: 1 });
      await platformEvent('buy_product', l, { product: DEMO.product, price_point: 2 });
      const { body } = await delivery(path, l.email);
      assert.equal(body.action_details.transaction_details.price_point_id, monthly.id);
      assert.equal(body.action_details.transaction_details.product_price_point, 2);
      const [listed] = await run(trigger.performList, auth, { product, price_point: String(monthly.id) });
      assert.equal(listed.action_details.transaction_details.price_point_id, monthly.id);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the price point 1 sale had its chance
      const forLead = catcher.requests.filter((r) => r.url === path && r.body?.lead?.email === l.email);
      assert.equal(forLead.length, 1, 'only the price point 2 sale was delivered');
      await run(trigger.performUnsubscribe, auth, {}, { subscribeData: sub });
    });

    test('a custom drop-down field is an input of its own, its option chosen by name', async () => {
      const identifier = `plan_${unique()}`;
      await act('create_custom_field', { identifier, type: 'drop_down', options: ['Free', 'Paid'] });
      const dynamic = op('creates', 'create_lead').inputFields.find((f) => typeof f === 'function');
      const input = (await run(dynamic, auth)).find((f) => f.key === `custom_field__${identifier}`);
      assert.deepEqual(input.choices, ['Free', 'Paid']);
      const out = await act('create_lead', { email: newEmail(), [input.key]: 'Paid' });
      const value = out.lead.custom_fields.find((f) => f.field_identifier === identifier).field_value;
      assert.deepEqual(value.map((o) => o.option_value), ['Paid']);
    });

    test('lead_id found by Find Lead feeds an action (search-powered field)', async () => {
      const l = await newLead();
      const [found] = await run(op('searches', 'find_lead').perform, auth, { lead: l.email });
      const out = await act('assign_tag', { lead_id: String(found.id), tag: 'Zap-made tag', create_if_missing: 'yes' });
      assert.equal(out.message, 'Tag added to lead');
      assert.ok(out.lead.tags.some((t) => t.tag_name === 'Zap-made tag'));
    });

    test('refund and cancel: the sale and the subscription found by search, by the lead email', async () => {
      const l = await newLead();
      await platformEvent('buy_product', l, { product: DEMO.product, price_point: 2 });
      const [subscription] = await run(op('searches', 'find_subscription').perform, auth, { query: l.email, status: 'active' });
      assert.equal(subscription.lead_email, l.email);
      const cancelled = await act('cancel_transaction', { subscription_id: String(subscription.id) });
      assert.equal(cancelled.subscription.status, 'cancelled');
      const [sale] = await run(op('searches', 'find_transaction').perform, auth, { query: l.email, kind: 'sale' });
      assert.equal(sale.subscription_id, subscription.id);
      const refunded = await act('refund_transaction', { transaction_id: String(sale.id) });
      assert.equal(refunded.message, 'Transaction refunded');
      const [byId] = await run(op('searches', 'find_transaction').perform, auth, { query: String(refunded.transaction.id), kind: 'refund' });
      assert.equal(byId.id, refunded.transaction.id);
      assert.deepEqual(await run(op('searches', 'find_subscription').perform, auth, { query: l.email, status: 'active' }), []);
    });
  });

  describe('instant triggers: subscribe, cause, catch, perform, performList, unsubscribe twice', () => {
    for (const [event] of TRIGGERS) {
      test(event, async () => {
        const trigger = op('triggers', event);
        const keys = trigger.inputFields.map((f) => f.key);
        const inputData = keys.includes('score')
          ? { score: SCORE }
          : await assets(...keys.filter((k) => k in DEMO));
        const l = await newLead();
        const { sub, path } = await subscribe(event, inputData);
        assert.ok(sub.id, 'subscribe returned an id');
        await CAUSES[event](l);
        const caught = await delivery(path, l.email);
        assert.equal(caught.method, 'POST');
        assert.equal(caught.headers['webhook-id'], caught.body.id, 'webhook-id is the event id');

        const items = await run(trigger.perform, auth, inputData, { cleanedRequest: caught.body });
        assert.equal(items.length, 1);
        assert.equal(items[0].action, event);
        assert.equal(items[0].lead.email, l.email);
        assertLikeSample(items[0], trigger.sample);

        const listed = await run(trigger.performList, auth, inputData);
        assert.ok(listed.length >= 1 && listed.length <= 3, `performList gave ${listed.length}`);
        listed.forEach((item) => assertLikeSample(item, trigger.sample));
        // Newest first, real events: the newest sample is no older than the event just delivered.
        assert.ok(listed[0].occurred_at >= caught.body.occurred_at, 'samples are recent real events, newest first');

        await run(trigger.performUnsubscribe, auth, {}, { subscribeData: sub });
        await run(trigger.performUnsubscribe, auth, {}, { subscribeData: sub }); // Zapier retries: still fine
      });
    }
  });

  test('no request left loopback', () => {
    assert.deepEqual(nonLoopbackConnections(), []);
  });
});
