'use strict';
// Kartra for Zapier: the app definition. Each family lives in lib/ and is generated from a table.
const { version } = require('./package.json');
const { version: platformVersion } = require('zapier-platform-core');
const authentication = require('./lib/authentication');
const { addAuthAndBaseUrl, handleErrors } = require('./lib/http');
const { triggers: hookTriggers } = require('./lib/triggers');
const { triggers: dropdownTriggers } = require('./lib/dropdowns');
const { creates } = require('./lib/creates');
const { searches, searchOrCreates } = require('./lib/searches');

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addAuthAndBaseUrl],
  afterResponse: [handleErrors],
  triggers: { ...hookTriggers, ...dropdownTriggers },
  creates,
  searches,
  searchOrCreates,
};
