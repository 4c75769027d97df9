"""URL arguments of the download page (/reports/): a failed report job of a stranger provider, so
every role meets someone else's job (answered 404, as if it did not exist)."""

from core.jobs import operations as jobs
from tests.support.access.registry import builds


@builds("job_id")
def job_id(ctx):
    stranger = ctx["make_user"]("provider")
    job = jobs.ReportJob(kind="provider_report", params={"provider_id": 0, "from": "2026-01-01", "to": "2026-06-30"},
                         params_key="0" * 64, title="stranger", requested_by_id=stranger.id,
                         state=jobs.JobState.FAILED, error="RuntimeError: test")
    ctx["session"].add(job)
    ctx["session"].flush()
    return job.id
