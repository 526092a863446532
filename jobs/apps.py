from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from config.api.bulk_views import ASYNC_BULK
        from jobs.api.representations import job_schema
        from jobs.api.views import submit_bulk_job

        ASYNC_BULK.submit = submit_bulk_job
        ASYNC_BULK.schema = job_schema
