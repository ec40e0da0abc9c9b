'use strict';
// Static samples shown in the Zap editor, and output fields derived from them, so the two can
// never disagree. The trigger samples are generated from the service's own payload builders
// (`python manage.py zapier_samples` writes samples.json; a Python test fails when it is stale),
// so they have exactly the keys of a real delivery.
const EVENT_SAMPLES = require('./samples.json');

// The lead document of every sample (the one of a real delivery, from the same builder).
const LEAD = EVENT_SAMPLES.assign_tag.lead;
const TRANSACTION_DETAILS = EVENT_SAMPLES.buy_product.action_details.transaction_details;

// GET /api/v1/transactions item (leads.serializers.TransactionReadOutput), for Find Transaction.
const TRANSACTION = {
  id: TRANSACTION_DETAILS.transaction_id,
  kind: 'sale',
  parent_id: 0,
  lead_id: LEAD.id,
  product_id: TRANSACTION_DETAILS.product_id,
  amount: TRANSACTION_DETAILS.transaction_full_amount,
  currency: TRANSACTION_DETAILS.transaction_currency,
  created_at: TRANSACTION_DETAILS.transaction_date,
  lead_email: LEAD.email,
  product_name: TRANSACTION_DETAILS.product_name,
  price_point_id: TRANSACTION_DETAILS.price_point_id,
  price_point_number: TRANSACTION_DETAILS.product_price_point,
  quantity: 1,
  subscription_id: TRANSACTION_DETAILS.transaction_internal_subscription_id,
};
delete TRANSACTION.parent_id; // null for a sale: left out of the sample rather than typed wrong

// GET /api/v1/subscriptions item (leads.serializers.SubscriptionReadOutput), for Find Subscription.
const SUBSCRIPTION = {
  id: TRANSACTION_DETAILS.transaction_internal_subscription_id,
  status: 'active',
  sale_id: TRANSACTION_DETAILS.transaction_id,
  lead_id: LEAD.id,
  lead_email: LEAD.email,
  product_id: TRANSACTION_DETAILS.product_id,
  product_name: TRANSACTION_DETAILS.product_name,
  price_point_id: TRANSACTION_DETAILS.price_point_id,
  amount: TRANSACTION_DETAILS.transaction_full_amount,
  currency: TRANSACTION_DETAILS.transaction_currency,
  created_at: TRANSACTION_DETAILS.transaction_date,
};

const eventSample = (event) => {
  const sample = EVENT_SAMPLES[event];
  if (!sample) throw new Error(`no sample for event ${event}: run manage.py zapier_samples`);
  return sample;
};

// "first_name" -> "First Name"; nested keys use Zapier's `a__b` notation.
const humanize = (path) =>
  path
    .split('__')
    .map((part) => part.replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()))
    .join(' ');

const typeOf = (value) =>
  typeof value === 'number'
    ? Number.isInteger(value) ? 'integer' : 'number'
    : typeof value === 'boolean' ? 'boolean' : 'string';

// Output fields for every scalar in a sample (arrays of objects are left to Zapier's line items).
// A null (e.g. a sale's transaction_parent_id) gets no type: its sample value says nothing of it.
const outputFieldsFrom = (sample, prefix = '') =>
  Object.entries(sample).flatMap(([key, value]) => {
    const path = prefix + key;
    if (Array.isArray(value)) return [];
    if (value && typeof value === 'object') return outputFieldsFrom(value, `${path}__`);
    const field = { key: path, label: humanize(path) };
    return [value === null ? field : { ...field, type: typeOf(value) }];
  });

module.exports = { LEAD, TRANSACTION, SUBSCRIPTION, EVENT_SAMPLES, eventSample, outputFieldsFrom };
