from modeltranslation.translator import TranslationOptions, register

from catalogue.models import Product
from taxonomy.translation import LOCALIZED_FIELDS


@register(Product)
class ProductTranslation(TranslationOptions):
    fields = LOCALIZED_FIELDS
