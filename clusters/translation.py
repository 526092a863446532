from modeltranslation.translator import TranslationOptions, register

from clusters.models import Cluster, ClusterOption
from taxonomy.translation import LOCALIZED_FIELDS

OPTION_LOCALIZED_FIELDS = ("name", "description", "short_description")


@register(Cluster)
class ClusterTranslation(TranslationOptions):
    fields = LOCALIZED_FIELDS


@register(ClusterOption)
class ClusterOptionTranslation(TranslationOptions):
    fields = OPTION_LOCALIZED_FIELDS
