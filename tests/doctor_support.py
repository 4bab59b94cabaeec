"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the doctor's tests.

It plays recorded error scenarios (status, headers and body exactly as the real services
send them; copied below from the project's reference openai-errors.json) and misbehaviours
a diagnostic must survive: hanging, resetting the connection, trickling bytes, invalid JSON,
an HTML gateway page.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from typing_extensions import Self

REPO = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"
# A fake key with a provider prefix; tests assert no 8-character piece of it is ever printed.
KEY = "sk-proj-Tq7fakeKEYabcdefghijklmnopqrstuvwxyz0123456789Zq9X"
KEY_ENV = "DOCTOR_TEST_KEY"


def mask(key: str) -> str:
    """How OpenAI echoes a key in a 401: first 8, stars, last 4; short keys whole."""
    if len(key) < 13:
        return key
    return key[:8] + "*" * max(4, len(key) - 12) + key[-4:]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # dict/list -> JSON; str -> sent as is
    behaviour: str | None = None  # hang, reset, slow, close
    delay: float = 0.0
    content_type: str | None = None


def chat_ok(model: str = MODEL) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
    }


def responses_ok(model: str = MODEL) -> dict:
    return {
        "id": "resp_test",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": model,
        "output": [
            {"type": "message", "id": "msg_test", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": "OK", "annotations": []}]}
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {"input_tokens": 12, "output_tokens": 2, "total_tokens": 14},
    }


class FakeEndpoint:
    """An OpenAI-compatible server whose answer per endpoint a test sets.

    Endpoints are matched by path suffix, so any base path works (/v1, /openai, /api/v1):
    GET .../models -> "models", GET .../models/ID -> "model",
    POST .../chat/completions or .../responses (Azure: .../deployments/D/chat/completions) -> "inference".
    """

    def __init__(self, served: list[str] | None = None) -> None:
        self.served = served if served is not None else [MODEL, "gpt-4o"]
        self.root: str | None = None  # when set, only paths under it exist (e.g. "/v1")
        self.replies: dict[str, Reply] = {}
        self.requests: list[dict[str, Any]] = []
        self.stop_event = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        endpoint = self

        class Handler(_Handler):
            owner = endpoint

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, client_address: None  # resets are part of the tests
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ---- scripting
    def set(self, endpoint: str, reply: Reply) -> None:
        self.replies[endpoint] = reply

    def play(self, scenario: dict) -> None:
        """Answer as the real service does in `scenario` (an entry of SCENARIOS)."""
        reply = Reply(scenario["status"], dict(scenario["headers"]), scenario["body"])
        for name in scenario["endpoints"]:
            self.set(name, reply)
        if "models" not in scenario["endpoints"] and "model" in scenario["endpoints"]:
            # GET /models answers 200, without the model the scenario says is missing
            self.served = [m for m in self.served if m != MODEL] or ["gpt-4o"]

    def default(self, name: str, path: str) -> Reply:
        if name == "models":
            return Reply(200, {}, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "test"} for m in self.served]})
        if name == "model":
            model_id = path.rsplit("/models/", 1)[-1]
            if model_id in self.served:
                return Reply(200, {}, {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "test"})
            return Reply(404, {}, {"error": {"message": f"The model `{model_id}` does not exist.",
                                             "type": "invalid_request_error", "param": None,
                                             "code": "model_not_found"}})
        if path.endswith("/responses"):
            return Reply(200, {}, responses_ok())
        return Reply(200, {}, chat_ok())


def _endpoint_of(method: str, path: str) -> str | None:
    path = path.split("?", 1)[0].rstrip("/")
    if method == "GET" and path.endswith("/models"):
        return "models"
    if method == "GET" and "/models/" in path:
        return "model"
    if method == "POST" and path.endswith(("/chat/completions", "/responses", "/completions")):
        return "inference"
    return None


class _Handler(BaseHTTPRequestHandler):
    owner: FakeEndpoint
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        auth = self.headers.get("Authorization") or ""
        key = auth[7:] if auth.startswith("Bearer ") else (self.headers.get("api-key") or "")
        owner.requests.append({"method": method, "path": self.path, "headers": dict(self.headers),
                               "body": body, "key": key})
        name = _endpoint_of(method, self.path)
        if owner.root is not None and not self.path.startswith(owner.root + "/"):
            name = None
        if name is None:
            reply = Reply(404, {}, {"detail": "Not Found"})
        else:
            reply = owner.replies.get(name) or owner.default(name, self.path.split("?", 1)[0])
            if reply.body is None and reply.status == 200:  # only a behaviour or delay was scripted
                base = owner.default(name, self.path.split("?", 1)[0])
                reply = Reply(base.status, base.headers, base.body, reply.behaviour, reply.delay)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.behaviour == "hang":
            owner.stop_event.wait(120)
            return
        if reply.behaviour == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        payload = reply.body
        if isinstance(payload, (dict, list)):
            text = json.dumps(payload)
            if key:  # echo the key the way OpenAI does in its 401 message
                text = text.replace("sk-proj-****************************1234", mask(key))
            data = text.encode()
            ctype = reply.content_type or "application/json"
        else:
            data = (payload or "").encode()
            ctype = reply.content_type or ("text/html" if data.lstrip().startswith(b"<") else "text/plain")
        self.send_response(reply.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if reply.behaviour == "slow":
            for i in range(len(data)):
                if owner.stop_event.wait(0.5):
                    return
                try:
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return
            return
        if reply.behaviour == "close":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


def clean_env(**extra: str | None) -> dict[str, str]:
    """os.environ without provider keys, proxies or git variables, plus `extra`."""
    drop = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "NO_COLOR"}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "GITHUB_")) and k not in drop and not k.lower().endswith("_proxy")
    }
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """`python -m gym_scaffold ARGS`, for real."""
    return subprocess.run(
        [sys.executable, "-m", "gym_scaffold", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def key_pieces(key: str = KEY, n: int = 8) -> list[str]:
    return [key[i : i + n] for i in range(len(key) - n + 1)]


def assert_no_key(text: str, key: str = KEY) -> None:
    leaked = [p for p in key_pieces(key) if p in text]
    assert not leaked, f"key fragment printed: {leaked[:3]}"


def scenario(provider: str, name: str) -> dict:
    for s in SCENARIOS:
        if s["provider"] == provider and s["scenario"] == name:
            return s
    raise KeyError((provider, name))


# Copied from ../shared/reference/openai-errors.json (the project's ground truth).
SCENARIOS_JSON = r'''{
 "_about": "Real error responses of OpenAI and OpenAI-compatible servers, as documented publicly (OpenAI error-code docs, SDK issues, provider docs). status, headers and body are what the server sends; 'endpoints' says which calls fail (models = GET /models, model = GET /models/{id}, inference = POST /chat/completions or /responses). Scenarios that fail only inference leave GET /models answering 200, as the real services do. Masked keys follow OpenAI's first-8 + stars + last-4 form. Use them to make a local test server realistic.",
 "scenarios": [
  {
   "provider": "openai",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "Incorrect API key provided: sk-proj-****************************1234. You can find your API key at https://platform.openai.com/account/api-keys.",
     "type": "invalid_request_error",
     "param": null,
     "code": "invalid_api_key"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 404,
   "headers": {},
   "body": {
    "error": {
     "message": "The model `gpt-4o-mini` does not exist or you do not have access to it.",
     "type": "invalid_request_error",
     "param": null,
     "code": "model_not_found"
    }
   }
  },
  {
   "provider": "vllm",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": "Unauthorized"
   }
  },
  {
   "provider": "vllm",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 404,
   "headers": {},
   "body": {
    "error": {
     "message": "The model `gpt-4o-mini` does not exist.",
     "type": "NotFoundError",
     "param": "model",
     "code": 404
    }
   }
  },
  {
   "provider": "vllm_legacy",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": "Unauthorized"
   }
  },
  {
   "provider": "vllm_legacy",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 404,
   "headers": {},
   "body": {
    "object": "error",
    "message": "The model `gpt-4o-mini` does not exist.",
    "type": "NotFoundError",
    "param": null,
    "code": 404
   }
  },
  {
   "provider": "azure",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "code": "401",
     "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
    }
   }
  },
  {
   "provider": "azure",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 404,
   "headers": {},
   "body": {
    "error": {
     "code": "DeploymentNotFound",
     "message": "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."
    }
   }
  },
  {
   "provider": "openrouter",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "User not found.",
     "code": 401
    }
   }
  },
  {
   "provider": "openrouter",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 400,
   "headers": {},
   "body": {
    "error": {
     "message": "gpt-4o-mini is not a valid model ID",
     "code": 400
    }
   }
  },
  {
   "provider": "nim",
   "scenario": "invalid_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "status": 401,
    "title": "Unauthorized",
    "detail": "Authentication failed"
   }
  },
  {
   "provider": "nim",
   "scenario": "model_not_found",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 404,
   "headers": {},
   "body": {
    "status": 404,
    "title": "Not Found",
    "detail": "Function '00000000-0000-0000-0000-000000000000': Not found for account 'FAKEacct'"
   }
  },
  {
   "provider": "openai",
   "scenario": "missing_api_key",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
     "type": "invalid_request_error",
     "param": null,
     "code": null
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "missing_scope",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "You have insufficient permissions for this operation. Missing scopes: model.request. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
     "type": "invalid_request_error",
     "param": null,
     "code": null
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "account_deactivated",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "This key is associated with a deactivated account. If you feel this is an error, contact us through our help center at help.openai.com.",
     "type": "invalid_request_error",
     "param": null,
     "code": "account_deactivated"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "org_mismatch",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 401,
   "headers": {},
   "body": {
    "error": {
     "message": "OpenAI-Organization header should match organization for API key",
     "type": "invalid_request_error",
     "param": null,
     "code": "mismatched_organization"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "region",
   "endpoints": [
    "models",
    "model",
    "inference"
   ],
   "status": 403,
   "headers": {},
   "body": {
    "error": {
     "code": "unsupported_country_region_territory",
     "message": "Country, region, or territory not supported",
     "param": null,
     "type": "request_forbidden"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "project_no_model_access",
   "endpoints": [
    "model",
    "inference"
   ],
   "status": 403,
   "headers": {},
   "body": {
    "error": {
     "message": "Project `proj_FAKEproj000000000000` does not have access to model `gpt-4o-mini`",
     "type": "invalid_request_error",
     "param": null,
     "code": "model_not_found"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "insufficient_quota",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {},
   "body": {
    "error": {
     "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
     "type": "insufficient_quota",
     "param": null,
     "code": "insufficient_quota"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "credit_balance_exhausted",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {},
   "body": {
    "error": {
     "message": "You exceeded your current quota, please check your plan and billing details.",
     "type": "insufficient_quota",
     "param": null,
     "code": "credit_balance_exhausted"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "rate_limit_rpm",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-limit-tokens": "150000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-remaining-tokens": "149984",
    "x-ratelimit-reset-requests": "20s",
    "x-ratelimit-reset-tokens": "6m0s"
   },
   "body": {
    "error": {
     "message": "Rate limit reached for gpt-4o-mini in organization org-FAKEorg0000000000000000 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more. You can increase your rate limit by adding a payment method to your account at https://platform.openai.com/account/billing.",
     "type": "requests",
     "param": null,
     "code": "rate_limit_exceeded"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "rate_limit_tpm",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-limit-tokens": "150000",
    "x-ratelimit-remaining-requests": "59",
    "x-ratelimit-remaining-tokens": "63",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-reset-tokens": "644ms"
   },
   "body": {
    "error": {
     "message": "Rate limit reached for gpt-4o-mini in organization org-FAKEorg0000000000000000 on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
     "type": "tokens",
     "param": null,
     "code": "rate_limit_exceeded"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "request_too_large_tpm",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-limit-tokens": "150000",
    "x-ratelimit-remaining-requests": "59",
    "x-ratelimit-remaining-tokens": "149984",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-reset-tokens": "6m0s"
   },
   "body": {
    "error": {
     "message": "Request too large for gpt-4o-mini in organization org-FAKEorg0000000000000000 on tokens per min (TPM): Limit 30000, Requested 31538. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
     "type": "tokens",
     "param": null,
     "code": "rate_limit_exceeded"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "slow_down",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {},
   "body": {
    "error": {
     "message": "Please reduce the rate at which you are sending requests.",
     "type": "rate_limit_error",
     "param": null,
     "code": "slow_down"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "server_error",
   "endpoints": [
    "inference"
   ],
   "status": 500,
   "headers": {},
   "body": {
    "error": {
     "message": "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID req_daca66a188eb4c118b752f8e8d7d2d10 in your email.)",
     "type": "server_error",
     "param": null,
     "code": null
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "overloaded",
   "endpoints": [
    "inference"
   ],
   "status": 503,
   "headers": {},
   "body": {
    "error": {
     "message": "Our servers are currently overloaded. Please try again later.",
     "type": "service_unavailable_error",
     "param": null,
     "code": "server_is_overloaded"
    }
   }
  },
  {
   "provider": "openai",
   "scenario": "html_502",
   "endpoints": [
    "inference"
   ],
   "status": 502,
   "headers": {},
   "body": "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
  },
  {
   "provider": "azure",
   "scenario": "rate_limit_rpm",
   "endpoints": [
    "inference"
   ],
   "status": 429,
   "headers": {
    "retry-after": "1",
    "retry-after-ms": "1000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-remaining-tokens": "7990"
   },
   "body": {
    "error": {
     "code": "429",
     "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    }
   }
  },
  {
   "provider": "openrouter",
   "scenario": "insufficient_quota",
   "endpoints": [
    "inference"
   ],
   "status": 402,
   "headers": {},
   "body": {
    "error": {
     "code": 402,
     "message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
     "metadata": {
      "limit_source": "openrouter_credits"
     }
    }
   }
  }
 ],
 "rate_limit_headers_example": {
  "x-ratelimit-limit-requests": "60",
  "x-ratelimit-limit-tokens": "150000",
  "x-ratelimit-remaining-requests": "59",
  "x-ratelimit-remaining-tokens": "149984",
  "x-ratelimit-reset-requests": "1s",
  "x-ratelimit-reset-tokens": "6m0s"
 },
 "notes": [
  "429 has three meanings: billing (error.type == 'insufficient_quota', permanent), rate limit (error.code == 'rate_limit_exceeded', transient; limit/used/wait are in the message and x-ratelimit-* headers), and a single request larger than the TPM limit (also rate_limit_exceeded, not transient). Check type before code: older bodies had code null.",
  "The openai SDK retries 408, 409, 429 and 5xx (max_retries=2 by default) and obeys retry-after / retry-after-ms; a diagnostic tool should use max_retries=0 and its own time bound.",
  "x-ratelimit-reset-* values look like '1s', '6m0s', '20ms', '4m12.172s'. Headers can be missing on a 429, and Azure has sent -1/0.",
  "An API key with a trailing newline or space makes the SDK raise APIConnectionError('Connection error.') (illegal header value), not a 401; a base URL without scheme or with an unresolved ${...} also surfaces as a connection error.",
  "GET /models succeeds for an out-of-credit key: only an inference call proves billing and model access.",
  "OpenAI's 401 message echoes the key masked (first 8 + last 4); short placeholder keys (under 13 characters) are echoed whole."
 ]
}'''
SCENARIOS: list[dict] = json.loads(SCENARIOS_JSON)["scenarios"]
