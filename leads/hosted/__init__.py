"""The visitors' pages: the hosted opt-in form (/f/<public id>/), its double opt-in confirmation
(/f/confirm/<token>/) and the hosted checkout (/c/<public id>/), throttled per visitor IP.

- urls: the routes (namespace "hosted"), included by leads.urls;
- views: thin views that call leads.services (consent, opt_in, commerce); forms: what a visitor fills in.

Import from the modules themselves; nothing is re-exported here.
"""
