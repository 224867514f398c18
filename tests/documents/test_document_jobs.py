"""Background document jobs (DeepL's upload -> status -> download) on the demo model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from corpus import Sentence, all_cases, held_out
from dragoman.engine.documents import DocumentRequest, DocumentTranslator
from dragoman.engine.errors import Overloaded
from dragoman.server.document_jobs import DocumentJob, DocumentJobs, UnknownJob


@pytest.fixture
def jobs(demo_engine: Any) -> Iterator[DocumentJobs]:
    runner = DocumentJobs(DocumentTranslator(demo_engine), workers=1, max_queued=2)
    yield runner
    runner.close()


def _wait(job: DocumentJob, timeout: float = 60.0) -> DocumentJob:
    end = time.monotonic() + timeout
    while job.status in ("queued", "translating") and time.monotonic() < end:
        time.sleep(0.02)
    return job


def test_a_job_runs_and_keeps_its_result(jobs: DocumentJobs, sentences: list[Sentence]) -> None:
    case = all_cases()["xlsx"]
    content = case.build(sentences)
    job = jobs.submit(DocumentRequest(content, "qaa_Latn", file_name="a.xlsx"))
    assert job.status in ("queued", "translating", "done")
    done = _wait(jobs.get(job.job_id, job.key))
    assert done.status == "done" and done.result is not None and done.done == done.total > 0
    after, before = case.read(done.result.content), case.read(content)
    assert after.structure == before.structure and after.fixed == before.fixed
    with pytest.raises(UnknownJob):
        jobs.get(job.job_id, "not-the-key")
    with pytest.raises(UnknownJob):
        jobs.get("no-such-job", job.key)


def test_a_bad_file_ends_in_error_with_the_reason(jobs: DocumentJobs) -> None:
    job = _wait(jobs.submit(DocumentRequest(b"not a zip", "qaa_Latn", file_name="a.docx")))
    assert job.status == "error" and "not a valid .docx" in job.error and job.result is None


def test_the_queue_is_bounded(jobs: DocumentJobs) -> None:
    text = "\n\n".join(s.eng for s in held_out(300)).encode()
    first = jobs.submit(DocumentRequest(text, "qaa_Latn", file_name="a.txt"))
    second = jobs.submit(DocumentRequest(text, "qaa_Latn", file_name="b.txt"))
    with pytest.raises(Overloaded):  # both are still queued or running: slower never helps
        jobs.submit(DocumentRequest(text, "qaa_Latn", file_name="c.txt"))
    assert _wait(first).status == _wait(second).status == "done"
    assert _wait(jobs.submit(DocumentRequest(text, "qaa_Latn", file_name="d.txt"))).status == "done"
