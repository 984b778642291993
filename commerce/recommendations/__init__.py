"""Cross-sell and upsell: relations curated by the operator or partners, a
co-purchase model mined from baskets (collected click-and-collect orders and
imported till baskets), and the offers built from both for a product page or a
basket, filtered by what the shopper can collect at the store by the slot's day.

- ``mining``: baskets in, item-to-item scores out (numpy, no database);
- ``building``: writes a mined model as a new version and switches to it;
- ``scoring``: reads the top products for a basket from one model version;
- ``evaluation``: the hide-one-item protocol over a test file;
- ``baskets``: till basket files read and imported;
- ``curation``: curated relations (services and selectors);
- ``offers``: what the API answers (curated first, stock and dates checked).
"""
