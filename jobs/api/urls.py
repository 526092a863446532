from config.api.routing import api_path
from jobs.api import views

urlpatterns = [
    api_path("imports", views.ImportView, "imports"),
    api_path("jobs", views.JobListView, "job-list"),
    api_path(r"jobs/(?P<job_id>\d+)", views.JobView, "job-detail"),
    api_path(r"jobs/(?P<job_id>\d+)/outcomes", views.JobOutcomesView, "job-outcomes"),
    api_path(r"jobs/(?P<job_id>\d+)/errors", views.JobErrorsView, "job-errors"),
]
