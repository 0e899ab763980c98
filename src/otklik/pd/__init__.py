"""Personal data (152-FZ): which columns hold it (fields.py), who sees it unmasked
(masking.py), consents (consent.py), retention and residents' requests to export or erase
their data (service.py, anonymize.py), `otklik pd` (cli.py). docs/security.md."""
