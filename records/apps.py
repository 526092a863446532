from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The domain kernel: what every catalogue record shares (rules, source links, lookups,
    outcomes, the bulk engine, the search engine). It imports no HTTP module (docs/adr/0015-domain-kernel.md)."""

    name = "records"
    verbose_name = "Catalogue records"
