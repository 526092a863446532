import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The cyclic GC, not our code, was a large share of a 100-product list (bench profile): every model
# instance allocates enough to trigger generation-0 collections, whose promotions keep walking
# the whole long-lived heap (Django, the URL conf, settings). Move what loading the app allocated
# out of the collector's sight and collect the young generation less often; requests create few
# reference cycles, so memory stays bounded. Opt out with GC_TUNING=0.
if os.environ.get("GC_TUNING", "1") != "0":
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
