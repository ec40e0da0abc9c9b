'use strict';
// Static samples shown in the Zap editor, and output fields derived from them, so the
// two can never disagree. Shapes follow the delivery payload of issue 5 and the
// platform's outbound `action_details` (reference kartra-api.md section 5).

const LEAD = {
  id: 1042,
  email: 'jane.doe@example.com',
  first_name: 'Jane',
  middle_name: '',
  last_name: 'Doe',
  last_name2: '',
  phone_country_code: '+1',
  phone: '5551234567',
  company: 'Acme Inc.',
  address: '1 Main Street',
  city: 'Detroit',
  zip: '48201',
  state: 'MI',
  country: 'US',
  website: 'https://example.com',
  facebook: '',
  twitter: '',
  linkedin: '',
  lead_picture: '',
  lead_preferred_time_zone: 'America/Detroit',
  ip: '203.0.113.7',
  ip_country: 'US',
  source: 'api',
  score: 40,
  date_joined: '2024-05-02T14:03:11Z',
  blacklisted: false,
  // The platform's numeric code (4 = unknown) and its name.
  gdpr_lead_status: 4,
  gdpr_lead_status_name: 'unknown',
  gdpr_lead_status_date: '2024-05-02T14:03:11Z',
  gdpr_lead_status_ip: null,
  custom_fields: [
    { field_id: 7, field_identifier: 'favourite_color', field_type: 'input_field', field_value: 'green' },
    { field_id: 8, field_identifier: 'plan', field_type: 'drop_down', field_value: [{ option_id: 2, option_value: 'Paid' }] },
  ],
  tags: [{ tag_id: 3, tag_name: 'Customer' }],
  lists: [{ list_id: 5, list_name: 'Newsletter', active: true }],
  sequences: [{ sequence_id: 2, sequence_name: 'Onboarding', step: 1, status: 'active' }],
  memberships: [{ membership_id: 4, membership_name: 'Academy', level_id: 8, level_name: 'Basic', active: true }],
};

const transaction = {
  transaction_id: 9001,
  lead_id: LEAD.id,
  lead_email: LEAD.email,
  lead_first_name: LEAD.first_name,
  lead_last_name: LEAD.last_name,
  lead_username: '',
  product_id: 12,
  product_name: 'Course',
  product_price_point: 1,
  transaction_quantity: 1,
  transaction_full_amount: '99.00',
  transaction_currency: 'USD',
  transaction_date: '2024-05-02T14:03:11Z',
  transaction_type: 'sale',
  transaction_parent_id: null,
  // Set when the price point is recurring: what "Cancel a subscription" takes.
  transaction_internal_subscription_id: 14833,
};
const tag = { tag: { tag_id: 3, tag_name: 'Customer' } };
const list = { list: { list_id: 5, list_name: 'Newsletter' } };
const sequence = { sequence: { sequence_id: 2, sequence_name: 'Onboarding' } };
const video = { video: { video_id: 6, video_name: 'Welcome' } };
const product = { product: { product_id: 12, product_name: 'Course', official_product_name: 'Course' } };
const membership = {
  membership: { membership_id: 4, membership_name: 'Academy', level_id: 8, level_name: 'Basic' },
};
const calendar = {
  calendar: {
    calendar_id: 10,
    calendar_name: 'Coaching',
    class_id: 11,
    class_name: 'Intro call',
    hosts: [{ host_first_name: 'Sam', host_last_name: 'Coach', host_email_address: 'sam@example.com' }],
    vendor_timezone: 'America/Detroit',
    calendar_subscription_id: 77,
    starts_at: '2024-05-10T15:00:00Z',
    ends_at: '2024-05-10T15:30:00Z',
  },
};

// action_details per event, as the service delivers them (tracking_link_click and
// external_page_visit are not in the platform's documented outbound list; ours add them).
const ACTION_DETAILS = {
  assign_tag: tag,
  unassign_tag: tag,
  list_subscription: list,
  list_unsubscription: list,
  filled_form: { form: { form_id: 9, form_name: 'Lead magnet' } },
  sequence_subscription: sequence,
  sequence_unsubscription: sequence,
  sequence_completion: sequence,
  tracking_link_click: {
    tracking_link: { tracking_link_id: 13, tracking_link_name: 'Promo', target_url: 'https://example.com/promo' },
  },
  video_play: video,
  video_complete: video,
  // The new score, and the lead's highest score before and after (the trigger fires once per threshold).
  reaches_score: { points: 60, previous_peak: 40, new_peak: 60 },
  affiliate_signup: product,
  jv_signup: product,
  membership_granted: membership,
  membership_revoked: membership,
  buy_product: { transaction_details: transaction },
  refund_product: { transaction_details: transaction },
  partial_refund_product: { transaction_details: transaction },
  cancel_subscription: { transaction_details: transaction },
  calendar_subscribe: calendar,
  calendar_complete: calendar,
  calendar_cancel: calendar,
  kartra_page_visit: { kartra_page: { kartra_page_id: 14, kartra_page_name: 'Sales page' } },
  external_page_visit: { external_page: { url: 'https://example.com/landing' } },
  click_page_split_test_link: {
    page_split_test_link: { page_split_test_link_id: 15, page_split_test_link_name: 'Hero test' },
  },
};

const eventSample = (event) => ({
  id: '0b6f3f5e-7c1a-4d55-9a8e-2f1a9c3d4e5f',
  action: event,
  occurred_at: '2024-05-02T14:05:00Z',
  lead: LEAD,
  action_details: ACTION_DETAILS[event],
});

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
const outputFieldsFrom = (sample, prefix = '') =>
  Object.entries(sample).flatMap(([key, value]) => {
    const path = prefix + key;
    if (Array.isArray(value)) return [];
    if (value && typeof value === 'object') return outputFieldsFrom(value, `${path}__`);
    return [{ key: path, label: humanize(path), type: typeOf(value) }];
  });

module.exports = { LEAD, ACTION_DETAILS, eventSample, outputFieldsFrom };
