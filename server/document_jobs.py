"""Document translations that run in the background: upload, poll the status, download.

DeepL's document API works this way (`/v2/document`): the upload answers at once with
a job id and a key, the client polls the status (queued, translating with an estimate
of the seconds remaining, done, error) and downloads the result once. Jobs run on a
few worker threads through the same `DocumentTranslator` as TranslateDocument; the
queue is bounded, a job has a deadline, and finished jobs are kept in memory for a
while, bounded in bytes (an expired job is unknown: upload again).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cachetools import TTLCache
from dragoman.engine.documents import DocumentRequest, DocumentResult, DocumentTranslator
from dragoman.engine.documents.translate import DocumentProgress
from dragoman.engine.errors import EngineError, Overloaded
from dragoman.engine.types import CallContext

logger = logging.getLogger(__name__)

#: How long a job (and its result) is kept after it was submitted.
KEEP_S = 60 * 60
#: Bytes of uploads and results kept, all jobs together.
KEEP_BYTES = 512 * 1024 * 1024
#: Longest a job may translate.
JOB_TIMEOUT_S = 30 * 60


class UnknownJob(LookupError):
    """No job has this id and key (never submitted, expired, or the key is wrong)."""


@dataclass
class DocumentJob:
    """One background document translation.

    Attributes:
        job_id: Public id.
        key: Secret the status and result calls must present.
        status: `queued`, `translating`, `done` or `error`.
        done: Segments translated so far.
        total: Segments in the document (0 until it is read).
        started: `time.monotonic()` when translating began (0 while queued).
        result: The translated document, once done.
        error: What went wrong, when `status` is `error`.
    """

    job_id: str
    key: str
    request: DocumentRequest
    status: str = "queued"
    done: int = 0
    total: int = 0
    started: float = 0.0
    result: DocumentResult | None = None
    error: str = ""
    cancelled: threading.Event = field(default_factory=threading.Event)

    def seconds_remaining(self) -> int | None:
        """An estimate from the pace so far, while translating."""
        if self.status != "translating" or not self.done or not self.total:
            return None
        elapsed = time.monotonic() - self.started
        return max(0, round(elapsed * (self.total - self.done) / self.done))

    def size(self) -> int:
        """Bytes the job holds (upload and result)."""
        return len(self.request.content) + (len(self.result.content) if self.result else 0)


class DocumentJobs:
    """Runs document translations in the background.

    Args:
        translator: Translates each document.
        workers: Documents translated at once.
        max_queued: Jobs waiting or running at most; beyond, `Overloaded`.
        keep_s: How long a job is kept after submission.
        keep_bytes: Bytes kept, all jobs together (the oldest go first).
    """

    def __init__(
        self,
        translator: DocumentTranslator,
        workers: int = 2,
        max_queued: int = 32,
        keep_s: float = KEEP_S,
        keep_bytes: int = KEEP_BYTES,
    ) -> None:
        self._translator = translator
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="document")
        self._max_queued = max_queued
        self._jobs: TTLCache[str, DocumentJob] = TTLCache(
            maxsize=keep_bytes, ttl=keep_s, getsizeof=lambda job: max(1, job.size())
        )
        self._active = 0
        self._lock = threading.Lock()

    def submit(self, request: DocumentRequest) -> DocumentJob:
        """Queues a document; returns its job (id and key) at once.

        Raises:
            Overloaded: Too many documents are waiting already.
        """
        job = DocumentJob(secrets.token_hex(16), secrets.token_hex(32), request)
        with self._lock:
            if self._active >= self._max_queued:
                raise Overloaded(
                    f"{self._active} documents are being translated or waiting; retry later"
                )
            self._active += 1
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str, key: str) -> DocumentJob:
        """The job with this id, when `key` is its key.

        Raises:
            UnknownJob: No such job, or the wrong key.
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or not hmac.compare_digest(job.key, key):
            raise UnknownJob(f"no document {job_id!r} with this key (it may have expired)")
        return job

    def close(self) -> None:
        """Cancels every job and stops the workers."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: DocumentJob) -> None:
        ctx = CallContext(
            deadline=time.monotonic() + JOB_TIMEOUT_S,
            cancelled=job.cancelled,
            request_id=f"document-{job.job_id}",
        )
        job.status, job.started = "translating", time.monotonic()
        status, error = "error", ""
        try:
            for step in self._translator.steps(job.request, ctx):
                if isinstance(step, DocumentProgress):
                    job.done, job.total = step.done, step.total
                else:
                    job.result = step
            status = "done"
        except EngineError as failure:
            error = str(failure) or type(failure).__name__
        except Exception:
            logger.exception("document job %s failed", job.job_id)
            error = f"internal error; quote document {job.job_id}"
        finally:
            # The slot is free before anyone can see the job finished.
            with self._lock:
                self._active -= 1
                job.error, job.status = error, status
                if job.job_id in self._jobs:  # weigh it again, with its result
                    self._jobs[job.job_id] = job
