'use strict';
// The one title-case rule of the app's labels (Zapier check D018), the same as the Python labels
// of leads.models.LeadAction: every word capitalized, each part of a hyphenated word too ("Opt-In"),
// except these small words when neither first nor last: articles, coordinating conjunctions and
// short prepositions. Letters after the first are left as written ("JV", "ID").
const SMALL_WORDS = new Set([
  'a', 'an', 'the', 'and', 'but', 'or', 'nor', 'for', 'so', 'yet', 'as', 'at', 'by', 'in', 'of', 'on', 'to', 'via',
]);

const capitalize = (word) => word.replace(/^([^A-Za-z]*)([a-z])/, (_, lead, c) => lead + c.toUpperCase());

const titleCase = (text) => {
  const words = text.trim().split(/\s+/);
  return words
    .map((word, i) => {
      const small = SMALL_WORDS.has(word.toLowerCase()) && i > 0 && i < words.length - 1;
      return small ? word.toLowerCase() : word.split('-').map(capitalize).join('-');
    })
    .join(' ');
};

module.exports = { titleCase, SMALL_WORDS };
