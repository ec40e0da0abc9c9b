'use strict';
// The 26 instant (REST hook) triggers. They differ only by event name, label and
// filter, so they are generated from one table.
const { API } = require('./http');
const { assetField } = require('./fields');
const { eventSample, outputFieldsFrom } = require('./samples');

// [event (= trigger key), label (the seed's words in title case, = leads.models.LeadAction's label;
//  a Python test checks they are equal), noun, filter keys of POST /api/v1/hooks, what it watches]
const TRIGGERS = [
  ['assign_tag', 'Lead Is Assigned Tag', 'Tag', ['tag'], 'a tag is assigned to a lead'],
  ['unassign_tag', 'Lead Is Unassigned Tag', 'Tag', ['tag'], 'a tag is removed from a lead'],
  ['list_subscription', 'Lead Subscribes to List', 'List Subscription', ['list'], 'a lead subscribes to a list'],
  ['list_unsubscription', 'Lead Is Unsubscribed From List', 'List Unsubscription', ['list'],
    'a lead is unsubscribed from a list'],
  ['filled_form', 'Lead Fills Opt-In Form', 'Form', ['form'], 'a lead submits one of your opt-in forms'],
  ['sequence_subscription', 'Lead Is Added to Sequence', 'Sequence Subscription', ['sequence'],
    'a lead is added to an email sequence'],
  ['sequence_unsubscription', 'Lead Is Removed From Sequence', 'Sequence Unsubscription', ['sequence'],
    'a lead is removed from an email sequence'],
  ['sequence_completion', 'Lead Completes Sequence', 'Sequence Completion', ['sequence'],
    'a lead receives the last step of an email sequence'],
  ['tracking_link_click', 'Lead Clicks on a Tracking Link', 'Tracking Link Click', ['tracking_link'],
    'a lead clicks one of your tracking links'],
  ['video_play', 'Lead Plays a Kartra Video', 'Video Play', ['video'], 'a lead starts playing one of your videos'],
  ['video_complete', 'Lead Completes a Kartra Video', 'Video Completion', ['video'],
    'a lead watches one of your videos to the end'],
  ['reaches_score', 'Lead Reaches Score for the First Time', 'Score', ['score'],
    "a lead's score reaches the number you set, once per lead"],
  ['affiliate_signup', 'Affiliate Signs Up for Product', 'Affiliate', ['product'],
    'someone signs up as an affiliate of one of your products'],
  ['jv_signup', 'JV Signs Up for Product', 'JV Partner', ['product'],
    'someone signs up as a joint-venture partner of one of your products'],
  ['membership_granted', 'Lead Is Granted Access to Membership', 'Membership Access', ['membership', 'level'],
    'a lead is given access to a membership level'],
  ['membership_revoked', 'Lead Is Revoked Access to Membership', 'Membership Revocation', ['membership', 'level'],
    "a lead's access to a membership is revoked"],
  ['buy_product', 'Customer Buys Product', 'Purchase', ['product', 'price_point'],
    'a customer buys one of your products'],
  ['refund_product', 'Customer Refunds Product', 'Refund', ['product', 'price_point'],
    'a purchase is refunded in full'],
  ['cancel_subscription', 'Customer Cancels Subscription', 'Cancellation', ['product', 'price_point'],
    'a recurring subscription is cancelled'],
  ['calendar_subscribe', 'Lead Registers a Calendar', 'Calendar Registration', ['calendar', 'class'],
    'a lead books a class of one of your calendars'],
  ['calendar_complete', 'Lead Completes a Calendar', 'Calendar Completion', ['calendar', 'class'],
    'a booked class has taken place'],
  ['calendar_cancel', 'Lead Cancels a Calendar', 'Calendar Cancellation', ['calendar', 'class'],
    'a lead cancels a class booking'],
  ['kartra_page_visit', 'Lead Visits a Kartra Page', 'Page Visit', ['page'], 'a lead visits one of your pages'],
  ['external_page_visit', 'Lead Visits External Page', 'External Page Visit', [],
    'a lead visits a page outside Kartra that carries your tracking code'],
  ['click_page_split_test_link', 'Lead Clicks on Page Split Test Link', 'Split Test Link Click', ['split_test_link'],
    'a lead clicks a split-test link of one of your pages'],
  ['partial_refund_product', 'Customer Partial Refunds Product', 'Partial Refund', ['product', 'price_point'],
    'part of a purchase is refunded'],
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

const hookTrigger = ([event, label, noun, filterKeys, what]) => {
  const sample = eventSample(event);
  return {
    key: event,
    noun,
    display: {
      label,
      description: `Triggers when ${what} (instant).`,
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
