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
      helpText: 'The address of your Kartra Integrations service, e.g. `https://app.kartra.com`.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      required: true,
      type: 'string',
      helpText:
        'Found in Kartra under [Settings > Integrations > My API](https://app.kartra.com/integrations/api/key).',
    },
    {
      key: 'api_password',
      label: 'API Password',
      required: true,
      type: 'password',
      helpText:
        'Shown once, next to your API key in [My API](https://app.kartra.com/integrations/api/key); ' +
        'regenerate it there if you lost it.',
    },
  ],
  // Any 2xx is a working connection; 401 / 403 are turned into clear messages by handleErrors.
  test: { url: `${API}/me` },
  connectionLabel: '{{account_name}}',
};
