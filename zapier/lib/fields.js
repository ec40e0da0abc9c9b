'use strict';
// Input fields shared by triggers (as filters) and actions: each asset is chosen from a
// dynamic dropdown (its id) or typed in by exact name; the API accepts either.
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
  return {
    key,
    label,
    required,
    dynamic: `${dropdownKey(kind)}.id.name`,
    helpText: required
      ? `Choose the ${label.toLowerCase()}, or type its exact name.`
      : `Only for this ${label.toLowerCase()}. Leave empty for any ${label.toLowerCase()}.`,
  };
};

// How an action names its lead: by email (usual) or by Kartra lead ID (wins when both are given).
const LEAD_FIELDS = [
  { key: 'email', label: 'Lead Email', type: 'string', required: false, helpText: "The lead's email address." },
  {
    key: 'lead_id',
    label: 'Lead ID',
    type: 'string',
    required: false,
    helpText: 'Kartra lead ID; used instead of the email when given.',
  },
];

// Standard lead fields of create_lead / edit_lead (reference kartra-api.md section 4).
const PROFILE_FIELDS = [
  ['first_name', 'First Name'],
  ['middle_name', 'Middle Name'],
  ['last_name', 'Last Name'],
  ['last_name2', 'Second Last Name'],
  ['phone_country_code', 'Phone Country Code'],
  ['phone', 'Phone'],
  ['company', 'Company'],
  ['address', 'Address'],
  ['city', 'City'],
  ['zip', 'Zip'],
  ['state', 'State'],
  ['country', 'Country'],
  ['ip', 'IP Address'],
  ['website', 'Website'],
  ['facebook', 'Facebook'],
  ['twitter', 'Twitter'],
  ['linkedin', 'LinkedIn'],
  ['lead_picture', 'Picture URL'],
  ['lead_preferred_time_zone', 'Preferred Time Zone'],
].map(([key, label]) => ({ key, label, type: 'string', required: false }));

const CUSTOM_FIELDS = {
  key: 'custom_fields',
  label: 'Custom Fields',
  dict: true,
  required: false,
  helpText:
    'Custom field identifier on the left, value on the right (an option ID for drop-down and radio fields).',
};

module.exports = { ASSETS, assetField, LEAD_FIELDS, PROFILE_FIELDS, CUSTOM_FIELDS };
