'use strict';
// The 22 actions of the seed, all as creates (a create always returns one object, which is
// what the Filter recipe on "Message" needs): the 15 writes (POST /api/v1/actions/{command}),
// the five "Retrieve All the ..." lists, Retrieve Lead Details and Search Lead. zapier/README.md
// says why these reads stay actions next to the Find Lead / Find Transaction / Find Subscription
// searches. An action on a lead that does not exist does not fail the Zap: it outputs
// {"message": "No lead found", "lead": null}.
const { API, NO_LEAD_FOUND, isLeadNotFound, raiseForError } = require('./http');
const { fetchAll } = require('./dropdowns');
const { assetField, LEAD_FIELDS, PROFILE_FIELDS, customFieldInputs, customFieldValues } = require('./fields');
const { LEAD, outputFieldsFrom } = require('./samples');

const int = (key, label, required, helpText) => ({ key, label, type: 'integer', required, helpText });
const createIfMissing = (noun) => ({
  key: 'create_if_missing',
  label: `Create ${noun} If Missing`,
  type: 'boolean',
  required: false,
  default: 'no',
  helpText: `Yes: when no ${noun.toLowerCase()} has this exact name, create it first (handy in a new account). ` +
    `No (default): a ${noun.toLowerCase()} that does not exist stops the step with an error.`,
});

const NEW_EMAIL = {
  key: 'new_email', label: 'New Email', type: 'string', required: false,
  helpText: "Changes the lead's email address to this one.",
};

// [command (= create key), label (the seed's words, title case), noun, input fields, acts on a lead,
//  success message, description]
const WRITES = [
  ['create_lead', 'Create New Lead', 'Lead', [
    { key: 'email', label: 'Email', type: 'string', required: true, helpText: "The new lead's email address (unique in your account)." },
    ...PROFILE_FIELDS, customFieldInputs], false, 'Lead created',
  'Creates a lead in Kartra with its profile and custom fields.'],
  ['edit_lead', 'Edit Lead', 'Lead', [...LEAD_FIELDS, NEW_EMAIL, ...PROFILE_FIELDS, customFieldInputs], true,
    'Lead edited', "Updates an existing lead's profile or custom fields; empty fields are left as they are."],
  ['assign_tag', 'Assign Tag to Lead', 'Tag', [...LEAD_FIELDS, assetField('tag', { required: true }), createIfMissing('Tag')],
    true, 'Tag added to lead', 'Assigns a tag to a lead (optionally creating the tag first).'],
  ['unassign_tag', 'Unassign Tag From Lead', 'Tag', [...LEAD_FIELDS, assetField('tag', { required: true })], true,
    'Tag removed from lead', 'Removes a tag from a lead.'],
  ['subscribe_lead_to_list', 'Subscribe Lead to List', 'List Subscription',
    [...LEAD_FIELDS, assetField('list', { required: true }), createIfMissing('List')], true, 'Lead subscribed to list',
    'Subscribes a lead to one of your lists (optionally creating the list first).'],
  ['unsubscribe_lead_from_list', 'Unsubscribe Lead From List', 'List Subscription',
    [...LEAD_FIELDS, assetField('list', { required: true })], true, 'Lead unsubscribed from list',
    'Unsubscribes a lead from one of your lists.'],
  ['give_points_to_lead', 'Add Points to Lead', 'Points', [
    ...LEAD_FIELDS, int('points', 'Points', true, 'How many points to add (a whole number, 1 or more).'),
    int('expiration_days', 'Expire After (Days)', false, 'Leave empty for points that never expire.')],
    true, 'Points added to lead', "Adds points to a lead's score, optionally expiring after some days."],
  ['remove_points_from_lead', 'Remove Points From Lead', 'Points',
    [...LEAD_FIELDS, int('points', 'Points', true, 'How many points to remove (a whole number, 1 or more).')], true,
    'Points removed from lead', "Removes points from a lead's score."],
  ['subscribe_lead_to_sequence_at_step', 'Subscribe Lead to Sequence', 'Sequence Subscription', [
    ...LEAD_FIELDS, assetField('sequence', { required: true }),
    int('step', 'Step', false, 'The step to start at (default 1).')], true, 'Lead added to sequence',
    'Adds a lead to an email sequence, at its first step or the one you choose.'],
  ['unsubscribe_lead_from_sequence', 'Unsubscribe Lead From Sequence', 'Sequence Subscription',
    [...LEAD_FIELDS, assetField('sequence', { required: true })], true, 'Lead removed from sequence',
    'Removes a lead from an email sequence.'],
  ['calendar_subscribe', 'Subscribe Lead to Calendar', 'Calendar Registration', [
    ...LEAD_FIELDS, assetField('calendar', { required: true }), assetField('class', { required: true }),
    { key: 'starts_at', label: 'Starts At', type: 'datetime', required: true, helpText: 'Date and time of the class (in the future).' }],
    true, 'Lead subscribed to class', 'Books a lead into a class of one of your calendars.'],
  ['calendar_cancel', 'Cancel Lead Subscription to Calendar', 'Calendar Registration', [
    ...LEAD_FIELDS, assetField('calendar', { required: true }), assetField('class', { required: true })],
    true, 'Lead unsubscribed from class', "Cancels a lead's booking of a calendar class."],
  ['refund_transaction', 'Refund a Transaction', 'Refund', [
    { key: 'transaction_id', label: 'Transaction ID', type: 'integer', required: true, search: 'find_transaction.id',
      helpText: 'The sale to refund: map its ID from a purchase trigger, or let Find Transaction look it up.' },
    { key: 'amount', label: 'Amount', type: 'number', required: false, helpText: 'Leave empty to refund what is left of the sale in full.' }],
    false, 'Transaction refunded', 'Refunds a sale in full or in part.'],
  ['cancel_transaction', 'Cancel a Subscription', 'Subscription', [
    { key: 'subscription_id', label: 'Subscription ID', type: 'integer', required: true, search: 'find_subscription.id',
      helpText: "The recurring subscription to cancel: map a purchase's Transaction Internal Subscription ID, or let Find Subscription look it up." }],
    false, 'Subscription cancelled', 'Cancels an active recurring subscription.'],
  ['create_custom_field', 'Create Custom Field', 'Custom Field', [
    { key: 'identifier', label: 'Identifier', type: 'string', required: true, helpText: 'Letters, digits, `-` and `_`; unique in your account.' },
    { key: 'type', label: 'Type', required: true, helpText: 'What the field holds: text, long text, or a choice of options.',
      choices: ['input_field', 'text_area', 'drop_down', 'radio_button', 'checkbox'] },
    { key: 'options', label: 'Options', list: true, required: false,
      helpText: 'Two or more option names, for drop-down, radio button and checkbox fields.' }],
    false, 'Custom Field created', 'Creates a custom field for your leads.'],
];

// [key, label (the seed's words, title case), noun, API path, description]
const RETRIEVES = [
  ['retrieve_tags', 'Retrieve All the Tags in Your Account', 'Tags', 'tags', 'Lists every tag of your account.'],
  ['retrieve_lists', 'Retrieve All the Lists in Your Account', 'Lists', 'lists', 'Lists every list of your account.'],
  ['retrieve_sequences', 'Retrieve All the Sequences in Your Account', 'Sequences', 'sequences',
    'Lists every email sequence of your account.'],
  ['retrieve_pages', 'Retrieve All the Pages in Your Account', 'Pages', 'pages', 'Lists every page of your account.'],
  ['retrieve_custom_fields', 'Retrieve All the Custom Fields in Your Account', 'Custom Fields', 'custom-fields',
    'Lists every custom field of your account with its options.'],
];

const filled = (value) => value !== undefined && value !== null && value !== '';

// The request body: filled static fields only, numbers as numbers (Zapier may hand them over as
// text), booleans as booleans, and the custom field inputs gathered into `custom_fields`.
const bodyOf = (inputData, fields) => {
  const body = Object.fromEntries(
    fields
      .filter((field) => typeof field === 'object' && filled(inputData[field.key]))
      .map(({ key, type }) => {
        const value = inputData[key];
        if (['integer', 'number'].includes(type)) return [key, Number(value)];
        if (type === 'boolean') return [key, value === true || /^(true|yes|1)$/i.test(String(value))];
        return [key, value];
      }),
  );
  if (fields.includes(customFieldInputs)) {
    const custom = customFieldValues(inputData);
    if (Object.keys(custom).length) body.custom_fields = custom;
  }
  return body;
};

const requireLead = (z, inputData) => {
  if (!inputData.email && !inputData.lead_id) {
    throw new z.errors.Error('Give the lead email or the lead ID.', 'lead_required', 400);
  }
};

const create = (key, label, noun, description, inputFields, perform, sample) => ({
  key,
  noun,
  display: { label, description },
  operation: { inputFields, perform, sample, outputFields: outputFieldsFrom(sample) },
});

const write = ([command, label, noun, fields, onLead, message, description]) =>
  create(
    command,
    label,
    noun,
    description,
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
    onLead || command === 'create_lead' ? { message, lead: LEAD } : writeSample(command, message),
  );

function writeSample(command, message) {
  const { TRANSACTION, SUBSCRIPTION } = require('./samples');
  if (command === 'refund_transaction') {
    const { id, lead_id: leadId, product_id: productId, amount, currency, created_at: createdAt } = TRANSACTION;
    return { message, transaction: { id: id + 1, kind: 'refund', parent_id: id, lead_id: leadId, product_id: productId,
      amount, currency, created_at: createdAt } };
  }
  if (command === 'cancel_transaction') {
    const { id, sale_id: saleId, lead_id: leadId, created_at: createdAt } = SUBSCRIPTION;
    return { message, subscription: { id, status: 'cancelled', sale_id: saleId, lead_id: leadId, cancelled_at: createdAt } };
  }
  if (command === 'create_custom_field') {
    return { message, custom_field: { id: 8, name: 'plan', identifier: 'plan', type: 'drop_down',
      options: [{ id: 21, name: 'Free' }, { id: 22, name: 'Paid' }], created_at: LEAD.date_joined } };
  }
  return { message };
}

const retrieve = ([key, label, noun, path, description]) => {
  const listKey = path.replace('-', '_'); // custom-fields -> custom_fields
  return create(
    key,
    label,
    noun,
    description,
    [],
    async (z) => {
      const items = await fetchAll(z, path);
      return { count: items.length, names: items.map((i) => i.name).join(', '), [listKey]: items };
    },
    { count: 1, names: 'Example', [listKey]: [{ id: 1, name: 'Example', created_at: LEAD.date_joined }] },
  );
};

// Search lead: always 200 {"message": "Lead found" | "No lead found", "lead": ...}.
const searchLead = (z, email) =>
  z.request({ url: `${API}/leads/search`, params: { email } }).then((r) => r.data);

// The lead by id ({message, lead}); "No lead found" when there is none.
const leadById = async (z, id) => {
  const response = await z.request({ url: `${API}/leads/${encodeURIComponent(id)}`, skipThrowForStatus: true });
  if (isLeadNotFound(z, response)) return { message: NO_LEAD_FOUND, lead: null };
  raiseForError(z, response);
  return { message: 'Lead found', lead: response.data };
};

const leadDetails = async (z, bundle) => {
  requireLead(z, bundle.inputData);
  const { lead_id: id, email } = bundle.inputData;
  return id ? leadById(z, id) : searchLead(z, email);
};

const EMAIL = {
  key: 'email', label: 'Lead Email', type: 'string', required: true, helpText: 'The email address to look for.',
};

const creates = Object.fromEntries(
  [
    ...WRITES.map(write),
    ...RETRIEVES.map(retrieve),
    create('retrieve_lead_details', 'Retrieve Lead Details', 'Lead',
      "Gets a lead's details (profile, custom fields, tags, lists, sequences, memberships) by email or ID; " +
      'outputs "No lead found" instead of failing.',
      LEAD_FIELDS, leadDetails, { message: 'Lead found', lead: LEAD }),
    create('search_lead', 'Search Lead', 'Lead',
      'Looks a lead up by email and always continues: Message is "Lead found" or "No lead found", for a Filter step.',
      [EMAIL], (z, bundle) => searchLead(z, bundle.inputData.email), { message: 'Lead found', lead: LEAD }),
  ].map((c) => [c.key, c]),
);

module.exports = { creates, WRITES, RETRIEVES, searchLead, leadById, EMAIL, bodyOf };
