'use strict';
// The 26 instant (REST hook) triggers. They differ only by event name, label and
// filter, so they are generated from one table.
const { API } = require('./http');
const { assetField } = require('./fields');
const { eventSample, outputFieldsFrom } = require('./samples');

// [event (= trigger key), label as in the seed, noun, filter keys of POST /api/v1/hooks]
const TRIGGERS = [
  ['assign_tag', 'Lead is assigned tag', 'Tag', ['tag']],
  ['unassign_tag', 'Lead is unassigned tag', 'Tag', ['tag']],
  ['list_subscription', 'Lead subscribes to list', 'List Subscription', ['list']],
  ['list_unsubscription', 'Lead is unsubscribed from list', 'List Unsubscription', ['list']],
  ['filled_form', 'Lead fills opt-in form', 'Form', ['form']],
  ['sequence_subscription', 'Lead is added to sequence', 'Sequence Subscription', ['sequence']],
  ['sequence_unsubscription', 'Lead is removed from sequence', 'Sequence Unsubscription', ['sequence']],
  ['sequence_completion', 'Lead completes sequence', 'Sequence Completion', ['sequence']],
  ['tracking_link_click', 'Lead clicks on a tracking link', 'Tracking Link Click', ['tracking_link']],
  ['video_play', 'Lead plays a Kartra video', 'Video Play', ['video']],
  ['video_complete', 'Lead completes a Kartra video', 'Video Completion', ['video']],
  ['reaches_score', 'Lead reaches score for the first time', 'Score', ['score']],
  ['affiliate_signup', 'Affiliate signs up for product', 'Affiliate', ['product']],
  ['jv_signup', 'JV signs up for product', 'JV Partner', ['product']],
  ['membership_granted', 'Lead is granted access to membership', 'Membership Access', ['membership', 'level']],
  ['membership_revoked', 'Lead is revoked access to membership', 'Membership Revocation', ['membership', 'level']],
  ['buy_product', 'Customer buys product', 'Purchase', ['product', 'price_point']],
  ['refund_product', 'Customer refunds product', 'Refund', ['product', 'price_point']],
  ['cancel_subscription', 'Customer cancels subscription', 'Cancellation', ['product', 'price_point']],
  ['calendar_subscribe', 'Lead registers a calendar', 'Calendar Registration', ['calendar', 'class']],
  ['calendar_complete', 'Lead completes a calendar', 'Calendar Completion', ['calendar', 'class']],
  ['calendar_cancel', 'Lead cancels a calendar', 'Calendar Cancellation', ['calendar', 'class']],
  ['kartra_page_visit', 'Lead visits a Kartra page', 'Page Visit', ['page']],
  ['external_page_visit', 'Lead visits external page', 'External Page Visit', []],
  ['click_page_split_test_link', 'Lead clicks on page split test link', 'Split Test Link Click', ['split_test_link']],
  ['partial_refund_product', 'Customer partial refunds product', 'Partial Refund', ['product', 'price_point']],
];

const SCORE_FIELD = {
  key: 'score',
  label: 'Score',
  type: 'integer',
  required: true,
  helpText: 'Triggers once per lead, the first time its score reaches this number.',
};

const filterField = (key) => (key === 'score' ? SCORE_FIELD : assetField(key));

// The filter as the API wants it: only the keys the user filled ("any" when empty).
const filterOf = (inputData, keys) =>
  Object.fromEntries(
    keys.filter((k) => inputData?.[k] !== undefined && inputData[k] !== '').map((k) => [k, inputData[k]]),
  );

const hookTrigger = ([event, label, noun, filterKeys]) => {
  const sample = eventSample(event);
  return {
    key: event,
    noun,
    display: {
      label,
      description: `Triggers when ${label[0].toLowerCase()}${label.slice(1)} (instant).`,
    },
    operation: {
      type: 'hook',
      inputFields: filterKeys.map(filterField),
      performSubscribe: async (z, bundle) => {
        const response = await z.request({
          url: `${API}/hooks`,
          method: 'POST',
          body: { event, target_url: bundle.targetUrl, filter: filterOf(bundle.inputData, filterKeys) },
        });
        return response.data; // kept by Zapier as bundle.subscribeData
      },
      performUnsubscribe: async (z, bundle) => {
        // 204 also when already gone: Zapier retries unsubscribes.
        const response = await z.request({ url: `${API}/hooks/${bundle.subscribeData.id}`, method: 'DELETE' });
        return response.data || {};
      },
      perform: (z, bundle) => [bundle.cleanedRequest],
      // Recent real events of the same shape (or one built from the account's data).
      performList: async (z, bundle) => {
        const response = await z.request({
          url: `${API}/hooks/samples/${event}`,
          params: filterOf(bundle.inputData, filterKeys),
        });
        return response.data;
      },
      sample,
      outputFields: outputFieldsFrom(sample),
    },
  };
};

const triggers = Object.fromEntries(TRIGGERS.map((row) => [row[0], hookTrigger(row)]));

module.exports = { triggers, TRIGGERS, filterOf };
