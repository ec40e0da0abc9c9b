#!/usr/bin/env node
'use strict';
// `make zapier-check`: Zapier's integration checks that can be asserted over the app definition,
// offline. Each rule names the check of Zapier's "Integration checks reference" it stands for.
//   node scripts/check.js        exit 1 with one line per problem, 0 when all rules hold
const App = require('../index');
const { titleCase } = require('../lib/titlecase');
const { ASSETS } = require('../lib/fields');

// The pages of this service that help texts may link to (accounts/urls.py); the default API URL's host.
const SERVICE_HOST = 'app.kartra.com';
const SERVICE_PAGES = new Set(['/settings/api/', '/integrations/', '/signup/', '/login/']);
const DESCRIPTION = { min: 20, max: 1000 };
const HELP_TEXT_MIN = 10;

const problems = [];
let checked = 0;
const check = (ok, message) => {
  checked += 1;
  if (!ok) problems.push(message);
};

const families = [
  ['trigger', App.triggers],
  ['create', App.creates],
  ['search', App.searches],
];

const valueAt = (sample, path) =>
  path.split('__').reduce((node, key) => (node && typeof node === 'object' ? node[key] : undefined), sample);

const isIdField = (field) => field.key === 'id' || /_id$/.test(field.key) || field.key in ASSETS;

const checkHelpLinks = (where, text) => {
  for (const [, url] of String(text).matchAll(/\]\((https?:[^)\s]+)\)/g)) {
    const parsed = new URL(url);
    check(parsed.host === SERVICE_HOST && SERVICE_PAGES.has(parsed.pathname),
      `${where}: help link ${url} is not a page this service serves (${[...SERVICE_PAGES].join(', ')})`);
  }
};

const checkInput = (where, field) => {
  if (typeof field === 'function') return; // dynamic fields: checked by test/app.test.js against a fake API
  check(typeof field.helpText === 'string' && field.helpText.trim().length >= HELP_TEXT_MIN,
    `${where}.${field.key}: help text missing or shorter than ${HELP_TEXT_MIN} characters (D002/D008)`);
  checkHelpLinks(`${where}.${field.key}`, field.helpText || '');
  check(titleCase(field.label || '') === field.label, `${where}.${field.key}: label "${field.label}" is not title case (D018)`);
  if (isIdField(field)) {
    check(Boolean(field.dynamic || field.search), `${where}.${field.key}: an id field needs a dynamic dropdown or a search (D004)`);
  }
  if (field.dynamic) {
    check(Boolean(App.triggers[field.dynamic.split('.')[0]]), `${where}.${field.key}: dynamic ${field.dynamic} has no trigger (D005)`);
  }
  if (field.search) {
    check(Boolean(App.searches[field.search.split('.')[0]]), `${where}.${field.key}: search ${field.search} does not exist (D014)`);
  }
};

for (const [kind, items] of families) {
  for (const item of Object.values(items)) {
    const where = `${kind} ${item.key}`;
    const { label, description, hidden } = item.display;
    if (!hidden) {
      check(titleCase(label) === label, `${where}: label "${label}" is not title case, want "${titleCase(label)}" (D018)`);
      check(description && description.length >= DESCRIPTION.min && description.length <= DESCRIPTION.max,
        `${where}: description must be ${DESCRIPTION.min}-${DESCRIPTION.max} characters (D019)`);
      check(description !== `${label}.`, `${where}: description only repeats the label (D019)`);
      if (kind === 'trigger') check(/^Triggers when /.test(description), `${where}: description must start "Triggers when" (D021)`);
    }
    const op = item.operation;
    check(op.sample && typeof op.sample === 'object', `${where}: sample missing (D012)`);
    if (kind === 'search') check(op.sample && op.sample.id !== undefined, `${where}: a search result needs a top-level id (D010)`);
    for (const field of op.outputFields || []) {
      if (!field.type) continue;
      const value = valueAt(op.sample, field.key);
      check(value !== null && value !== undefined, `${where}: sample has no value for typed output field ${field.key} (D024)`);
    }
    for (const field of op.inputFields || []) checkInput(where, field);
  }
}
for (const field of App.authentication.fields) {
  checkInput('authentication', field);
}
for (const item of Object.values(App.searchOrCreates || {})) {
  check(titleCase(item.display.label) === item.display.label, `search-or-create ${item.key}: label not title case (D018)`);
}

for (const problem of problems) console.error(`FAIL ${problem}`);
console.log(`zapier-check: ${checked - problems.length} passed, ${problems.length} failed`);
process.exit(problems.length ? 1 : 0);
