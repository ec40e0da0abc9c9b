'use strict';
// Hidden triggers that feed the dynamic dropdowns (one per asset kind), paginated
// through Zapier's "load more" (canPaginate, bundle.meta.page is 0-based; the API's
// DRF pagination is 1-based). Classes, levels and price points come nested in their
// parent objects; their dropdowns read the chosen parent from bundle.inputData.
const { API, raiseForError } = require('./http');

const PAGE_SIZE = 100;

// One page of /api/v1/<path>; [] past the last page (DRF answers 404 "Invalid page" there).
const fetchPage = async (z, path, page, pageSize = PAGE_SIZE) => {
  const response = await z.request({
    url: `${API}/${path}`,
    params: { page: page + 1, page_size: pageSize },
    skipThrowForStatus: true,
  });
  if (response.status === 404 && page > 0) return { results: [], next: null };
  raiseForError(z, response);
  return response.data;
};

// Every item of a paginated list, for the "Retrieve all the ..." actions and parent lookups.
// Bounded so a Zap step cannot run for ever on a runaway account.
const fetchAll = async (z, path, maxPages = 50) => {
  const items = [];
  for (let page = 0; page < maxPages; page++) {
    const data = await fetchPage(z, path, page, 500);
    items.push(...data.results);
    if (!data.next) break;
  }
  return items;
};

// [key, label, API path, dropdown label field]
const KINDS = [
  ['tags', 'Tags', 'tags'],
  ['lists', 'Lists', 'lists'],
  ['sequences', 'Sequences', 'sequences'],
  ['pages', 'Pages', 'pages'],
  ['custom_fields', 'Custom Fields', 'custom-fields'],
  ['forms', 'Forms', 'forms'],
  ['videos', 'Videos', 'videos'],
  ['tracking_links', 'Tracking Links', 'tracking-links'],
  ['split_test_links', 'Split Test Links', 'split-test-links'],
  ['calendars', 'Calendars', 'calendars'],
  ['memberships', 'Memberships', 'memberships'],
  ['products', 'Products', 'products'],
];

// [key, label, parent kind, parent input field, key of the nested array in the parent]
// The nested array names (classes, levels, price_points) are assumed from the API contract's
// "calendars (with classes), memberships (with levels), products (with price points)".
const CHILD_KINDS = [
  ['calendar_classes', 'Calendar Classes', 'calendars', 'calendar', 'classes'],
  ['membership_levels', 'Membership Levels', 'memberships', 'membership', 'levels'],
  ['product_price_points', 'Product Price Points', 'products', 'product', 'price_points'],
];

const dropdownKey = (kind) => `dropdown_${kind}`;

const hidden = (kind, label, perform) => ({
  key: dropdownKey(kind),
  noun: label,
  display: { label: `List ${label}`, description: `Lists ${label.toLowerCase()} for dropdowns.`, hidden: true },
  operation: {
    perform,
    canPaginate: true,
    sample: { id: 1, name: 'Example' },
    outputFields: [{ key: 'id', label: 'ID' }, { key: 'name', label: 'Name' }],
  },
});

const childName = (child) => child.name || child.label || String(child.id);

const childPerform = (parentPath, parentField, nested) => async (z, bundle) => {
  const page = bundle.meta?.page || 0;
  const chosen = bundle.inputData?.[parentField];
  if (chosen) {
    // The chosen parent (its id from the dropdown, or its exact name typed in).
    if (page > 0) return [];
    const parents = await fetchAll(z, parentPath);
    const parent = parents.find((p) => String(p.id) === String(chosen) || p.name === chosen);
    return (parent?.[nested] || []).map((child) => ({ ...child, name: childName(child) }));
  }
  // No parent chosen yet: the children of this page of parents, labelled "Parent / Child".
  const { results } = await fetchPage(z, parentPath, page);
  return results.flatMap((parent) =>
    (parent[nested] || []).map((child) => ({ ...child, name: `${parent.name} / ${childName(child)}` })),
  );
};

const triggers = Object.fromEntries([
  ...KINDS.map(([kind, label, path]) => [
    dropdownKey(kind),
    hidden(kind, label, async (z, bundle) => (await fetchPage(z, path, bundle.meta?.page || 0)).results),
  ]),
  ...CHILD_KINDS.map(([kind, label, parentKind, parentField, nested]) => {
    const parentPath = KINDS.find(([k]) => k === parentKind)[2];
    return [dropdownKey(kind), hidden(kind, label, childPerform(parentPath, parentField, nested))];
  }),
]);

module.exports = { triggers, dropdownKey, fetchAll, KINDS, CHILD_KINDS };
