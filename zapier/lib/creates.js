'use strict';
// The 22 actions of the seed, all as creates (a create always returns one object, which is
// what the Filter recipe on "Message" needs): the 15 writes (POST /api/v1/actions/{command}),
// the five "Retrieve all the ..." lists, "Retrieve lead details" and "Search lead".
// An action on a lead that does not exist does not fail the Zap: it outputs
// {"message": "No lead found", "lead": null}.
const { API, NO_LEAD_FOUND, isLeadNotFound, raiseForError } = require('./http');
const { fetchAll } = require('./dropdowns');
const { assetField, LEAD_FIELDS, PROFILE_FIELDS, CUSTOM_FIELDS } = require('./fields');
const { LEAD, outputFieldsFrom } = require('./samples');

const int = (key, label, required, helpText) => ({ key, label, type: 'integer', required, helpText });

// [command (= create key), label as in the seed, noun, input fields, whether it acts on a lead, success message]
const WRITES = [
  ['create_lead', 'Create new lead', 'Lead', [
    { key: 'email', label: 'Email', type: 'string', required: true },
    ...PROFILE_FIELDS, CUSTOM_FIELDS], false, 'Lead created'],
  ['edit_lead', 'Edit lead', 'Lead', [
    ...LEAD_FIELDS,
    { key: 'new_email', label: 'New Email', type: 'string', required: false, helpText: 'Changes the lead email.' },
    ...PROFILE_FIELDS, CUSTOM_FIELDS], true, 'Lead edited'],
  ['assign_tag', 'Assign tag to lead', 'Tag', [...LEAD_FIELDS, assetField('tag', { required: true })], true, 'Tag added to lead'],
  ['unassign_tag', 'Unassign tag from lead', 'Tag', [...LEAD_FIELDS, assetField('tag', { required: true })], true, 'Tag removed from lead'],
  ['subscribe_lead_to_list', 'Subscribe lead to list', 'List Subscription',
    [...LEAD_FIELDS, assetField('list', { required: true })], true, 'Lead subscribed to list'],
  ['unsubscribe_lead_from_list', 'Unsubscribe lead from list', 'List Subscription',
    [...LEAD_FIELDS, assetField('list', { required: true })], true, 'Lead unsubscribed from list'],
  ['give_points_to_lead', 'Add points to lead', 'Points', [
    ...LEAD_FIELDS, int('points', 'Points', true),
    int('expiration_days', 'Expire After (Days)', false, 'Leave empty for points that never expire.')],
    true, 'Points added to lead'],
  ['remove_points_from_lead', 'Remove points from lead', 'Points',
    [...LEAD_FIELDS, int('points', 'Points', true)], true, 'Points removed from lead'],
  ['subscribe_lead_to_sequence_at_step', 'Subscribe lead to sequence', 'Sequence Subscription', [
    ...LEAD_FIELDS, assetField('sequence', { required: true }),
    int('step', 'Step', false, 'The step to start at (default 1).')], true, 'Lead added to sequence'],
  ['unsubscribe_lead_from_sequence', 'Unsubscribe lead from sequence', 'Sequence Subscription',
    [...LEAD_FIELDS, assetField('sequence', { required: true })], true, 'Lead removed from sequence'],
  ['calendar_subscribe', 'Subscribe lead to calendar', 'Calendar Registration', [
    ...LEAD_FIELDS, assetField('calendar', { required: true }), assetField('class', { required: true }),
    { key: 'starts_at', label: 'Starts At', type: 'datetime', required: true, helpText: 'Date and time of the class (future).' }],
    true, 'Lead subscribed to class'],
  ['calendar_cancel', 'Cancel lead subscription to calendar', 'Calendar Registration', [
    ...LEAD_FIELDS, assetField('calendar', { required: true }), assetField('class', { required: true })],
    true, 'Lead unsubscribed from class'],
  ['refund_transaction', 'Refund a transaction', 'Refund', [
    { key: 'transaction_id', label: 'Transaction ID', type: 'string', required: true },
    { key: 'amount', label: 'Amount', type: 'number', required: false, helpText: 'Leave empty for a full refund.' }],
    false, 'Transaction refunded'],
  ['cancel_transaction', 'Cancel a subscription', 'Subscription', [
    { key: 'subscription_id', label: 'Subscription ID', type: 'string', required: true }], false, 'Subscription cancelled'],
  ['create_custom_field', 'Create custom field', 'Custom Field', [
    { key: 'identifier', label: 'Identifier', type: 'string', required: true, helpText: 'Letters, digits, `-` and `_`.' },
    { key: 'type', label: 'Type', required: true,
      choices: ['input_field', 'text_area', 'drop_down', 'radio_button', 'checkbox'] },
    { key: 'options', label: 'Options', list: true, required: false,
      helpText: 'Two or more option names, for drop-down, radio button and checkbox fields.' }],
    false, 'Custom Field created'],
];

// [key, label as in the seed, noun, API path]
const RETRIEVES = [
  ['retrieve_tags', 'Retrieve all the tags in your account', 'Tags', 'tags'],
  ['retrieve_lists', 'Retrieve all the lists in your account', 'Lists', 'lists'],
  ['retrieve_sequences', 'Retrieve all the sequences in your account', 'Sequences', 'sequences'],
  ['retrieve_pages', 'Retrieve all the pages in your account', 'Pages', 'pages'],
  ['retrieve_custom_fields', 'Retrieve all the custom fields in your account', 'Custom Fields', 'custom-fields'],
];

// The request body: filled fields only, numbers as numbers (Zapier may hand them over as text).
const bodyOf = (inputData, fields) =>
  Object.fromEntries(
    fields
      .filter(({ key }) => inputData[key] !== undefined && inputData[key] !== null && inputData[key] !== '')
      .map(({ key, type }) => [key, ['integer', 'number'].includes(type) ? Number(inputData[key]) : inputData[key]]),
  );

const requireLead = (z, inputData) => {
  if (!inputData.email && !inputData.lead_id) {
    throw new z.errors.Error('Give the lead email or the lead ID.', 'lead_required', 400);
  }
};

const create = (key, label, noun, inputFields, perform, sample) => ({
  key,
  noun,
  display: { label, description: `${label}.` },
  operation: { inputFields, perform, sample, outputFields: outputFieldsFrom(sample) },
});

const write = ([command, label, noun, fields, onLead, message]) =>
  create(
    command,
    label,
    noun,
    fields,
    async (z, bundle) => {
      if (onLead) requireLead(z, bundle.inputData);
      const response = await z.request({
        url: `${API}/actions/${command}`,
        method: 'POST',
        body: bodyOf(bundle.inputData, fields),
        skipThrowForStatus: true,
      });
      if (isLeadNotFound(z, response)) return { message: NO_LEAD_FOUND, lead: null };
      return response.data;
    },
    onLead || command === 'create_lead' ? { message, lead: LEAD } : { message },
  );

const retrieve = ([key, label, noun, path]) => {
  const listKey = path.replace('-', '_'); // custom-fields -> custom_fields
  return create(
    key,
    label,
    noun,
    [],
    async (z) => {
      const items = await fetchAll(z, path);
      return { count: items.length, names: items.map((i) => i.name).join(', '), [listKey]: items };
    },
    { count: 1, names: 'Example', [listKey]: [{ id: 1, name: 'Example', created_at: '2024-05-02T14:03:11Z' }] },
  );
};

// Search lead: always 200 {"message": "Lead found" | "No lead found", "lead": ...}.
const searchLead = (z, email) =>
  z.request({ url: `${API}/leads/search`, params: { email } }).then((r) => r.data);

const leadDetails = async (z, bundle) => {
  requireLead(z, bundle.inputData);
  const { lead_id: id, email } = bundle.inputData;
  if (!id) return searchLead(z, email);
  const response = await z.request({ url: `${API}/leads/${encodeURIComponent(id)}`, skipThrowForStatus: true });
  if (isLeadNotFound(z, response)) return { message: NO_LEAD_FOUND, lead: null };
  raiseForError(z, response);
  return { message: 'Lead found', lead: response.data };
};

const EMAIL = { key: 'email', label: 'Lead Email', type: 'string', required: true };

const creates = Object.fromEntries(
  [
    ...WRITES.map(write),
    ...RETRIEVES.map(retrieve),
    create('retrieve_lead_details', 'Retrieve lead details', 'Lead', LEAD_FIELDS, leadDetails,
      { message: 'Lead found', lead: LEAD }),
    create('search_lead', 'Search lead', 'Lead', [EMAIL], (z, bundle) => searchLead(z, bundle.inputData.email),
      { message: 'Lead found', lead: LEAD }),
  ].map((c) => [c.key, c]),
);

module.exports = { creates, WRITES, RETRIEVES, searchLead, EMAIL };
