"""The job table in Redis, for workers on several machines sharing one queue.

Same contract as ``SqliteJobStore`` (see app/jobs/store.py). Each state change is one Lua script,
so it is atomic on the server; lease times come from the Redis server's clock (``TIME``), so
workers whose clocks disagree still agree on when a lease has expired.

Keys (``prefix`` defaults to ``glyph:jobs``): ``{prefix}:job:{id}`` (hash of the job's fields),
``{prefix}:runs:{id}`` (hash attempt → JSON), ``{prefix}:all`` and ``{prefix}:owner:{owner}``
(sorted by creation), ``{prefix}:running`` (sorted by lease expiry) and ``{prefix}:queued``
(sorted by the time the job was last handed to huey; 0 = not yet).
Scripts build job keys from the prefix, so a Redis Cluster is not supported (one instance is).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from app.jobs.models import Job, JobStatus
from app.jobs.store import LOST_REASON_EN, LOST_REASON_ZH, JobStore

log = logging.getLogger(__name__)

_PRELUDE = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function owns(job, token)
  return redis.call('HGET', job, 'status') == 'running'
     and redis.call('HGET', job, 'lease_owner') == token
end
local function end_run(runs, token, outcome, t)
  local attempt = string.match(token, '#(%d+)$')
  local raw = attempt and redis.call('HGET', runs, attempt)
  if raw then
    local r = cjson.decode(raw)
    r.ended = t
    r.outcome = outcome
    redis.call('HSET', runs, attempt, cjson.encode(r))
  end
end
"""

# KEYS: job, running, queued, runs · ARGV: id, worker, lease_s
_CLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return false end
local t = now()
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') + 1
local token = ARGV[2] .. '#' .. attempt
local exp = t + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'status', 'running', 'attempts', attempt, 'lease_owner', token,
           'lease_expires', exp, 'updated', t)
if not redis.call('HGET', KEYS[1], 'started') then redis.call('HSET', KEYS[1], 'started', t) end
redis.call('ZADD', KEYS[2], exp, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], attempt,
           cjson.encode({attempt = attempt, worker = ARGV[2], started = t}))
return token
"""

# KEYS: job, running · ARGV: id, token, lease_s, progress, text
_HEARTBEAT = """
if not owns(KEYS[1], ARGV[2]) then return 0 end
local t = now()
local exp = t + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'lease_expires', exp, 'progress', ARGV[4], 'progress_text', ARGV[5],
           'updated', t)
redis.call('ZADD', KEYS[2], exp, ARGV[1])
return 1
"""

# KEYS: job, running, runs · ARGV: id, token, result json
_COMPLETE = """
if not owns(KEYS[1], ARGV[2]) then return 0 end
local t = now()
redis.call('HSET', KEYS[1], 'status', 'done', 'result', ARGV[3], 'progress', 1, 'finished', t,
           'updated', t)
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_expires', 'error', 'error_zh')
redis.call('ZREM', KEYS[2], ARGV[1])
end_run(KEYS[3], ARGV[2], 'done', t)
return 1
"""

# KEYS: job, running, queued, runs · ARGV: id, token, error, error_zh, retry (0/1)
_FAIL = """
if not owns(KEYS[1], ARGV[2]) then return false end
local t = now()
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts'))
local max = tonumber(redis.call('HGET', KEYS[1], 'max_attempts'))
local status = 'failed'
if ARGV[5] == '1' and attempts < max then status = 'queued' end
redis.call('HSET', KEYS[1], 'status', status, 'error', ARGV[3], 'error_zh', ARGV[4], 'updated', t)
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_expires', 'enqueued')
if status == 'queued' then
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
else
  redis.call('HSET', KEYS[1], 'finished', t)
end
redis.call('ZREM', KEYS[2], ARGV[1])
end_run(KEYS[4], ARGV[2], string.sub('error: ' .. ARGV[3], 1, 500), t)
return status
"""

# KEYS: running, queued · ARGV: prefix, reason template en, reason template zh
_REAP = """
local t = now()
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t)) do
  local job = ARGV[1] .. ':job:' .. id
  local exp = tonumber(redis.call('HGET', job, 'lease_expires') or '0')
  if redis.call('HGET', job, 'status') == 'running' and exp < t then
    local attempts = redis.call('HGET', job, 'attempts')
    local max = redis.call('HGET', job, 'max_attempts')
    local token = redis.call('HGET', job, 'lease_owner')
    local status = 'failed'
    if tonumber(attempts) < tonumber(max) then status = 'queued' end
    redis.call('HSET', job, 'status', status, 'updated', t,
               'error', string.format(ARGV[2], attempts, max),
               'error_zh', string.format(ARGV[3], attempts, max))
    redis.call('HDEL', job, 'lease_owner', 'lease_expires', 'enqueued')
    if status == 'queued' then
      redis.call('ZADD', KEYS[2], 0, id)
    else
      redis.call('HSET', job, 'finished', t)
    end
    end_run(ARGV[1] .. ':runs:' .. id, token, 'lost', t)
    table.insert(out, id)
    table.insert(out, status)
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('HGET', job, 'status') ~= 'running' then
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

# KEYS: job, queued · ARGV: id
_CANCEL = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local t = now()
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished', t, 'updated', t)
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# KEYS: job, queued · ARGV: id
_MARK_ENQUEUED = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local t = now()
redis.call('HSET', KEYS[1], 'enqueued', t)
redis.call('ZADD', KEYS[2], t, ARGV[1])
return 1
"""

_INT_FIELDS = ("attempts", "max_attempts")
_JSON_FIELDS = ("spec", "result")


class RedisJobStore(JobStore):
    """The job table in Redis (``GLYPH_REDIS_URL``)."""

    def __init__(self, url: str, prefix: str = "glyph:jobs") -> None:
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self._scripts = {
            name: self.client.register_script(_PRELUDE + body)
            for name, body in (
                ("claim", _CLAIM),
                ("heartbeat", _HEARTBEAT),
                ("complete", _COMPLETE),
                ("fail", _FAIL),
                ("reap", _REAP),
                ("cancel", _CANCEL),
                ("mark", _MARK_ENQUEUED),
            )
        }

    # --- keys -----------------------------------------------------------------------------------
    def _job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def _runs(self, job_id: str) -> str:
        return f"{self.prefix}:runs:{job_id}"

    @property
    def _running(self) -> str:
        return f"{self.prefix}:running"

    @property
    def _queued(self) -> str:
        return f"{self.prefix}:queued"

    @property
    def _all(self) -> str:
        return f"{self.prefix}:all"

    def _owner(self, owner: str) -> str:
        return f"{self.prefix}:owner:{owner}"

    # --- (de)serialisation ----------------------------------------------------------------------
    @staticmethod
    def _encode(job: Job) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in job.model_dump(mode="json").items():
            if value is None:
                continue
            if key in _JSON_FIELDS:
                out[key] = json.dumps(value, ensure_ascii=False)
            else:
                out[key] = str(value)
        return out

    @staticmethod
    def _decode(data: dict[str, str]) -> Job | None:
        if not data:
            return None
        parsed: dict[str, Any] = dict(data)
        for key in _JSON_FIELDS:
            if key in parsed:
                parsed[key] = json.loads(parsed[key])
        for key in _INT_FIELDS:
            if key in parsed:
                parsed[key] = int(float(parsed[key]))
        return Job.model_validate(parsed)

    # --- reads ----------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        return self._decode(self.client.hgetall(self._job(job_id)))

    def list(self, owner: str | None = None, limit: int = 50) -> list[Job]:
        index = self._all if owner is None else self._owner(owner)
        ids = self.client.zrevrange(index, 0, max(0, limit - 1))
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self._job(job_id))
        return [j for j in map(self._decode, pipe.execute()) if j is not None]

    def runs(self, job_id: str) -> list[dict[str, Any]]:
        raw = self.client.hgetall(self._runs(job_id))
        runs = [json.loads(v) for v in raw.values()]
        for run in runs:
            run.setdefault("ended", None)
            run.setdefault("outcome", None)
        return sorted(runs, key=lambda r: r["attempt"])

    def stale_queued(self, older_than: float) -> list[str]:
        return list(self.client.zrangebyscore(self._queued, "-inf", f"({older_than}"))

    # --- writes ---------------------------------------------------------------------------------
    def create(self, job: Job) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._job(job.id), mapping=self._encode(job))
        pipe.zadd(self._all, {job.id: job.created})
        pipe.zadd(self._owner(job.owner), {job.id: job.created})
        if job.status is JobStatus.QUEUED:
            pipe.zadd(self._queued, {job.id: 0})
        pipe.execute()

    def mark_enqueued(self, job_id: str) -> None:
        self._scripts["mark"](keys=[self._job(job_id), self._queued], args=[job_id])

    def claim(self, job_id: str, worker: str, lease_s: float) -> Job | None:
        token = self._scripts["claim"](
            keys=[self._job(job_id), self._running, self._queued, self._runs(job_id)],
            args=[job_id, worker, lease_s],
        )
        return self.get(job_id) if token else None

    def heartbeat(
        self, job_id: str, token: str, lease_s: float, progress: float, text: str
    ) -> bool:
        return bool(
            self._scripts["heartbeat"](
                keys=[self._job(job_id), self._running],
                args=[job_id, token, lease_s, progress, text],
            )
        )

    def complete(self, job_id: str, token: str, result: dict[str, Any]) -> bool:
        return bool(
            self._scripts["complete"](
                keys=[self._job(job_id), self._running, self._runs(job_id)],
                args=[job_id, token, json.dumps(result, ensure_ascii=False)],
            )
        )

    def fail(
        self, job_id: str, token: str, error: str, error_zh: str, *, retry: bool
    ) -> JobStatus | None:
        status = self._scripts["fail"](
            keys=[self._job(job_id), self._running, self._queued, self._runs(job_id)],
            args=[job_id, token, error, error_zh, "1" if retry else "0"],
        )
        return JobStatus(status) if status else None

    def reap(self, lease_s: float) -> list[tuple[str, JobStatus]]:
        def template(text: str) -> str:
            text = text.replace("%", "%%").replace("{lease:g}", f"{lease_s:g}")
            return text.replace("{attempt}", "%s").replace("{max}", "%s")

        flat = self._scripts["reap"](
            keys=[self._running, self._queued],
            args=[self.prefix, template(LOST_REASON_EN), template(LOST_REASON_ZH)],
        )
        changed = [(flat[i], JobStatus(flat[i + 1])) for i in range(0, len(flat), 2)]
        for job_id, status in changed:
            log.warning("job %s: worker lost, now %s", job_id, status.value)
        return changed

    def cancel(self, job_id: str) -> bool:
        return bool(self._scripts["cancel"](keys=[self._job(job_id), self._queued], args=[job_id]))

    def close(self) -> None:
        self.client.close()
