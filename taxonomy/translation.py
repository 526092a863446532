from modeltranslation.translator import TranslationOptions, register

from taxonomy.models import Category

LOCALIZED_FIELDS = (
    "name",
    "description",
    "short_description",
    "slug",
    "metadata_title",
    "metadata_description",
    "metadata_keywords",
    "metadata_canonical_url",
)


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = LOCALIZED_FIELDS
