"""The owner's pages (HTML, login required, owner role): the leads list and a lead's page, the
account's GDPR setting, the asset pages, and a lead's data rights (consent, export, erasure).

- urls / data_rights_urls: the routes (namespaces "leads" and "lead_data"), included by leads.urls;
- views, forms: leads, GDPR setting and asset pages; data_rights: a lead's data rights pages.

Import from the modules themselves; nothing is re-exported here.
"""
