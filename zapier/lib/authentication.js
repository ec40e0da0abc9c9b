'use strict';
const { API } = require('./http');

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'Kartra API URL',
      required: true,
      type: 'string',
      default: 'https://app.kartra.com',
      helpText:
        'The **API URL** shown on your [API credentials page](https://app.kartra.com/settings/api/), ' +
        'e.g. `https://app.kartra.com`. It must start with `https://`.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      required: true,
      type: 'string',
      helpText:
        'The **API key** shown on your [API credentials page](https://app.kartra.com/settings/api/) ' +
        '(available once Zapier access is activated in My integrations).',
    },
    {
      key: 'api_password',
      label: 'API Password',
      required: true,
      type: 'password',
      helpText:
        'The **API password**, shown once on your [API credentials page](https://app.kartra.com/settings/api/) ' +
        'when it is created; regenerate it there if you lost it.',
    },
  ],
  // Any 2xx is a working connection; 401 / 403 are turned into clear messages by handleErrors.
  test: { url: `${API}/me` },
  connectionLabel: '{{account_name}}',
};
