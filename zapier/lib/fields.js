'use strict';
// Input fields shared by triggers (as filters) and actions: each asset is chosen from a
// dynamic dropdown (its id) or typed in by exact name; the API accepts either. A price point is
// chosen by its id (`price_point_id`), the one identifier of the dropdown, the filter and the payload.
const { API, raiseForError } = require('./http');
const { dropdownKey } = require('./dropdowns');

const ASSETS = {
  tag: ['Tag', 'tags'],
  list: ['List', 'lists'],
  form: ['Form', 'forms'],
  sequence: ['Sequence', 'sequences'],
  tracking_link: ['Tracking Link', 'tracking_links'],
  video: ['Video', 'videos'],
  page: ['Page', 'pages'],
  split_test_link: ['Split Test Link', 'split_test_links'],
  calendar: ['Calendar', 'calendars'],
  class: ['Calendar Class', 'calendar_classes'],
  membership: ['Membership', 'memberships'],
  level: ['Membership Level', 'membership_levels'],
  product: ['Product', 'products'],
  price_point: ['Product Price Point', 'product_price_points'],
};

const assetField = (key, { required = false } = {}) => {
  const [label, kind] = ASSETS[key];
  const noun = label.toLowerCase();
  const how = key === 'price_point'
    ? 'Choose it from the list (pick the product first to see only its price points).'
    : `Choose it from the list, or type its exact name.`;
  return {
    key,
    label,
    required,
    dynamic: `${dropdownKey(kind)}.id.name`,
    helpText: required ? `The ${noun}. ${how}` : `Only for this ${noun}: leave empty for any ${noun}. ${how}`,
  };
};

// How an action names its lead: by email (usual) or by Kartra lead ID (wins when both are given),
// the ID found by the Find Lead search when the Zap has no earlier step that gives it.
const LEAD_FIELDS = [
  {
    key: 'email',
    label: 'Lead Email',
    type: 'string',
    required: false,
    helpText: "The lead's email address. Give this or the Lead ID.",
  },
  {
    key: 'lead_id',
    label: 'Lead ID',
    type: 'integer',
    required: false,
    search: 'find_lead.id',
    helpText: 'The Kartra lead ID (map it from an earlier step, or let Find Lead look it up); used instead of the email when given.',
  },
];

// Standard lead fields of create_lead / edit_lead (reference kartra-api.md section 4).
const PROFILE_FIELDS = [
  ['first_name', 'First Name', "The lead's first name."],
  ['middle_name', 'Middle Name', "The lead's middle name."],
  ['last_name', 'Last Name', "The lead's last name."],
  ['last_name2', 'Second Last Name', "The lead's second last name, where one is used."],
  ['phone_country_code', 'Phone Country Code', 'The international dialling code, e.g. `+1`.'],
  ['phone', 'Phone', 'The phone number without the country code.'],
  ['company', 'Company', "The lead's company."],
  ['address', 'Address', 'Street and number.'],
  ['city', 'City', "The lead's city."],
  ['zip', 'Zip', 'Postal code.'],
  ['state', 'State', 'State, province or region.'],
  ['country', 'Country', 'Country, e.g. `US`.'],
  ['ip', 'IP Address', "The lead's IP address (IPv4 or IPv6)."],
  ['website', 'Website', "The lead's website address."],
  ['facebook', 'Facebook', "The lead's Facebook profile address."],
  ['twitter', 'Twitter', "The lead's Twitter/X handle or profile address."],
  ['linkedin', 'LinkedIn', "The lead's LinkedIn profile address."],
  ['lead_picture', 'Picture URL', "The address of the lead's picture."],
  ['lead_preferred_time_zone', 'Preferred Time Zone', 'An IANA time zone name, e.g. `America/New_York`.'],
].map(([key, label, helpText]) => ({ key, label, type: 'string', required: false, helpText }));

// Custom fields: one input per custom field of the account (GET /api/v1/custom-fields), fetched when
// the action is set up; options offered by name (the API takes an option's name or its id).
const CUSTOM_FIELD_PREFIX = 'custom_field__';
const OPTION_TYPES = new Set(['drop_down', 'radio_button', 'checkbox']);

const customFieldInput = (field) => {
  const input = {
    key: `${CUSTOM_FIELD_PREFIX}${field.identifier}`,
    label: `Custom Field: ${field.identifier}`,
    required: false,
    type: field.type === 'text_area' ? 'text' : 'string',
    helpText: OPTION_TYPES.has(field.type)
      ? `Custom field \`${field.identifier}\` (${field.type.replace('_', ' ')}): choose ${field.type === 'checkbox' ? 'one or more options' : 'an option'} or map its exact name.`
      : `Custom field \`${field.identifier}\` (${field.type.replace('_', ' ')}). Leave empty to keep it as it is.`,
  };
  if (OPTION_TYPES.has(field.type)) input.choices = field.options.map((option) => option.name);
  if (field.type === 'checkbox') input.list = true;
  return input;
};

const customFieldInputs = async (z) => {
  const { fetchAll } = require('./dropdowns');
  return (await fetchAll(z, 'custom-fields')).map(customFieldInput);
};

// {custom_field__plan: 'Paid'} -> {custom_fields: {plan: 'Paid'}} (filled ones only).
const customFieldValues = (inputData) => {
  const values = {};
  for (const [key, value] of Object.entries(inputData || {})) {
    if (!key.startsWith(CUSTOM_FIELD_PREFIX) || value === undefined || value === null || value === '') continue;
    values[key.slice(CUSTOM_FIELD_PREFIX.length)] = value;
  }
  return values;
};

module.exports = {
  ASSETS, assetField, LEAD_FIELDS, PROFILE_FIELDS, customFieldInputs, customFieldValues, customFieldInput,
  CUSTOM_FIELD_PREFIX, API, raiseForError,
};
