'use strict';
// "Find Lead": a real Zapier search (empty result when none), paired with "Create new lead"
// as a search-or-create. Its result has the same {message, lead} shape as create_lead's
// output, so later steps map the same fields whichever of the two ran.
const { creates, searchLead, EMAIL } = require('./creates');

const find_lead = {
  key: 'find_lead',
  noun: 'Lead',
  display: { label: 'Find Lead', description: 'Finds a lead by email address.' },
  operation: {
    inputFields: [EMAIL],
    perform: async (z, bundle) => {
      const found = await searchLead(z, bundle.inputData.email);
      return found.lead ? [found] : [];
    },
    sample: creates.search_lead.operation.sample,
    outputFields: creates.search_lead.operation.outputFields,
  },
};

const searchOrCreates = {
  find_lead: {
    key: 'find_lead', // must equal the search key
    display: { label: 'Find or Create Lead', description: 'Finds a lead by email, or creates it.' },
    search: 'find_lead',
    create: 'create_lead',
  },
};

module.exports = { searches: { find_lead }, searchOrCreates };
