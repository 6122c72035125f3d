from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from config import views
from courses import routing
from courses.api import api as courses_api
from learners.page_cache import cached_for_learner

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("confidentialite/", views.privacy, name="privacy"),
    # Before allauth's own: the same names, behind « confirm it's you ».
    path("comptes/", include("learners.guarded_account_urls")),
    path("comptes/", include("allauth.urls")),
    path("", include("courses.urls")),
    path("", include("certification.urls")),
    path("moi/", include("learners.urls")),
    path("", include("learners.organisation_urls")),
    path("api/", courses_api.urls),
    path("cms-admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.BENCH_BASELINE_VIEW:
    urlpatterns += [path("bench/baseline/", views.bench_baseline, name="bench_baseline")]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail serves the page tree (home, catalogue, tracks, modules, lessons): last,
# through our faster router, with Wagtail's own patterns behind it. A learner's
# module and lesson pages are answered from the cache when nothing on them moved.
urlpatterns += [
    re_path(
        r"^(?!_util/)((?:[\w\-]+/)*)$", cached_for_learner(routing.serve), name="wagtail_serve"
    ),
    path("", include(wagtail_urls)),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
