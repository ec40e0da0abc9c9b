'use strict';
// Zapier searches (an empty result when none; the first item is used):
// - Find Lead, by email or by lead ID, paired with Create New Lead as a search-or-create;
// - Find Transaction and Find Subscription, by the lead's email or by ID, newest first,
//   so Refund a Transaction and Cancel a Subscription need no raw ids.
// Each result is flat with a top-level `id`: what the search-powered `lead_id`,
// `transaction_id` and `subscription_id` inputs of the actions take.
const { API, NO_LEAD_FOUND } = require('./http');
const { searchLead, leadById } = require('./creates');
const { LEAD, TRANSACTION, SUBSCRIPTION, outputFieldsFrom } = require('./samples');

const EMAIL_RE = /^[^@\s]+@[^@\s]+$/;
const ID_RE = /^\d+$/;

// "jane@example.com" -> {lead_email}; "9001" -> {id}; anything else: a clear error.
const emailOrId = (z, value, what) => {
  const text = String(value ?? '').trim();
  if (EMAIL_RE.test(text)) return { lead_email: text };
  if (ID_RE.test(text)) return { id: text };
  throw new z.errors.Error(`Give the lead's email address or the ${what} ID (a number); got "${text}".`, 'invalid', 400);
};

const search = (key, noun, label, description, inputFields, perform, sample) => ({
  key,
  noun,
  display: { label, description },
  operation: { inputFields, perform, sample, outputFields: outputFieldsFrom(sample) },
});

const findLead = search(
  'find_lead',
  'Lead',
  'Find Lead',
  'Finds a lead by email address or by Kartra lead ID.',
  [{ key: 'lead', label: 'Lead Email or ID', type: 'string', required: true,
    helpText: "The lead's email address, or its Kartra lead ID." }],
  async (z, bundle) => {
    const query = emailOrId(z, bundle.inputData.lead, 'lead');
    const found = query.id ? await leadById(z, query.id) : await searchLead(z, query.lead_email);
    return found.message === NO_LEAD_FOUND || !found.lead ? [] : [found.lead];
  },
  LEAD,
);

const listSearch = (path, filters) => async (z, bundle) => {
  const { id, lead_email: leadEmail } = emailOrId(z, bundle.inputData.query, filters.what);
  const params = { page: 1, page_size: 10, ...(id ? { id } : { lead_email: leadEmail }) };
  if (bundle.inputData[filters.key]) params[filters.key] = bundle.inputData[filters.key];
  const response = await z.request({ url: `${API}/${path}`, params });
  return response.data.results;
};

const findTransaction = search(
  'find_transaction',
  'Transaction',
  'Find Transaction',
  "Finds a lead's latest transaction (a sale by default) by the lead's email, or a transaction by its ID.",
  [
    { key: 'query', label: 'Lead Email or Transaction ID', type: 'string', required: true,
      helpText: "The lead's email address (its latest transaction is found), or the transaction ID." },
    { key: 'kind', label: 'Kind', required: false, default: 'sale',
      choices: { sale: 'Sale', refund: 'Refund', partial_refund: 'Partial refund' },
      helpText: 'Which kind of transaction to find; a refund needs a sale.' },
  ],
  listSearch('transactions', { key: 'kind', what: 'transaction' }),
  TRANSACTION,
);

const findSubscription = search(
  'find_subscription',
  'Subscription',
  'Find Subscription',
  "Finds a lead's latest recurring subscription (active by default) by the lead's email, or one by its ID.",
  [
    { key: 'query', label: 'Lead Email or Subscription ID', type: 'string', required: true,
      helpText: "The lead's email address (its latest subscription is found), or the subscription ID." },
    { key: 'status', label: 'Status', required: false, default: 'active',
      choices: { active: 'Active', cancelled: 'Cancelled' },
      helpText: 'Only subscriptions in this state; a cancellation needs an active one.' },
  ],
  listSearch('subscriptions', { key: 'status', what: 'subscription' }),
  SUBSCRIPTION,
);

const searches = { find_lead: findLead, find_transaction: findTransaction, find_subscription: findSubscription };

const searchOrCreates = {
  find_lead: {
    key: 'find_lead', // must equal the search key
    display: { label: 'Find or Create Lead', description: 'Finds a lead by email address or ID, or creates it.' },
    search: 'find_lead',
    create: 'create_lead',
  },
};

module.exports = { searches, searchOrCreates, emailOrId };
