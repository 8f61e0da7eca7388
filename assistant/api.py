"""HTTP API for agent desktops (CRM side panels, softphone widgets): thin, like the CLI.

    POST /v1/ask           question, history, business -> the `Answer` contract (as `ask --json`)
    POST /v1/feedback      the answer a desktop got back, a rating, a comment -> the stored row's id
    GET  /v1/pages/{slug}  one page with its sections, for rendering a citation
    GET  /healthz          the process is alive (never asks for a key)
    GET  /readyz           the index is loaded and the rules checked against it
    GET  /openapi.json     the schema (and /docs)

Every answer comes from the one `Chain.ask`, so validation, the rules and the output filter are the
CLI's and the chat's; the JSON is `present.json_text`, the CLI's. Every answer is logged in the
app's database (`AskLog`, channel "api"), as the chat logs its own. Errors are one line in
`{"detail": ...}`: bad input 422, unknown page 404, a missing or wrong key 401, an index or database
that is not there or not reachable (or a setting the operator must fix) 503; a body over
`MAX_BODY_BYTES` is refused with 413 while it arrives (Starlette's plain "Content Too Large").
Endpoints are plain functions: FastAPI runs them on its thread pool, so one process answers several
agents at once on one `Chain` (which is safe across threads). Must never answer outside `Chain.ask`.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from assistant.asklog import AskLog
from assistant.chain import Chain
from assistant.config import Settings, load_settings
from assistant.corpus import load_pages, sections
from assistant.database import open_database
from assistant.errors import AssistantError, IndexNotBuilt, IndexUnavailable, InvalidFeedback, InvalidQuestion
from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.present import json_text
from assistant.question import validate

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024  # a question, its history and an answer with five quotes fit many times over
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")  # markup.slugify's output; never a path
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # valid JSON ("\\ud800"), but no UTF-8 can store it
JSON = "application/json"


# -- requests and responses ----------------------------------------------------------------------
def _storable(value: str) -> str:
    # "\ud800" is valid JSON but no text: left in, it fails deep inside (the JSON encoder, the database).
    if LONE_SURROGATE.search(value):
        raise ValueError("contains an unpaired surrogate (not text)")
    return value


Text = Annotated[StrictStr, AfterValidator(_storable)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    question: Text = Field(description="the agent's question (limits as the CLI's: empty, too long or "
                                       "control characters are refused)")
    history: list[Text] = Field(default_factory=list, description="the agent's earlier turns in this conversation, "
                                                                  "oldest first (at most ASSISTANT_MAX_HISTORY_TURNS)")
    business: Text | None = Field(None, description="answer only from this line of business's pages "
                                                    "(default: the server's setting, else decided per question)")


class FeedbackRequest(Strict):
    answer: Answer = Field(description="the answer exactly as /v1/ask returned it")
    history: list[Text] = Field(default_factory=list)
    rating: StrictInt = Field(ge=0, le=1, description="1 = thumbs up, 0 = thumbs down")
    comment: Text = Field("", description="what was wrong or right (at most ASSISTANT_MAX_COMMENT_CHARS)")


class FeedbackCreated(BaseModel):
    id: int


class PageSection(BaseModel):
    label: str = Field(description="heading path below the page title, as citations name it")
    anchor: str = Field(description="the citation URL's #fragment")
    text: str = Field(description="the section's Markdown, verbatim")


class PageOut(BaseModel):
    slug: str
    title: str
    business: str
    updated: str | None
    source_url: str | None
    sections: list[PageSection]


class Readiness(BaseModel):
    ready: bool
    generation: str | None = None
    detail: str | None = None


# -- the seams: where the app's resources come from ------------------------------------------------
@dataclass(frozen=True)
class Stores:
    feedback: FeedbackStore
    asks: AskLog


def open_stores(settings: Settings) -> Stores:
    """The one place the API opens what it writes: the app's database (ASSISTANT_DATABASE_URL), which
    every instance, the chat and the trainer pages share."""
    db = open_database(settings)
    return Stores(FeedbackStore(db), AskLog(db))


def app_from_environment() -> FastAPI:
    """`assistant serve`'s factory: settings from the environment, the chain and database opened at start-up."""
    return create_app(load_settings(), warm_up_on_start=True)


def create_app(settings: Settings, chain: Chain | None = None, stores: Stores | None = None,
               warm_up_on_start: bool = False) -> FastAPI:
    """The API over `chain` (default: a lazy `Chain(settings)`; tests pass one built with fakes) and
    `stores` (default: opened from the settings on first use)."""
    chain = chain or Chain(settings)
    opened: list[Stores] = [stores] if stores else []
    opening = threading.Lock()

    def the_stores() -> Stores:
        with opening:  # opening migrates the database: once per process
            if not opened:
                opened.append(open_stores(settings))
            return opened[0]

    def log_answer(answer: Answer, history: list[str]) -> None:
        # The log is a record of the service, not the service: an agent on a call still gets the
        # answer when the database is down (the server log says so).
        try:
            the_stores().asks.record(answer, history, channel="api")
        except Exception:
            log.exception("could not log an answer to the database")

    warming: list[threading.Thread] = []

    def warm_up() -> None:
        try:
            chain.warm_up()
            the_stores()
        except AssistantError as exc:
            log.warning("not ready yet: %s", exc)  # readyz says why, and tries again

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Loading the model and checking the rules takes seconds (minutes on a busy host, when the
        # rules' example vectors are not cached yet): done beside the server, so /healthz answers at
        # once and /readyz says "warming up" until the first agent can be answered without waiting.
        if warm_up_on_start:
            warming.append(threading.Thread(target=warm_up, name="warm-up", daemon=True))
            warming[0].start()
        yield

    app = FastAPI(title="SOP assistant", version="1", lifespan=lifespan, max_body_size=MAX_BODY_BYTES,
                  description="Answers call-center agents' questions from the procedure pages only, with "
                              "citations and hard guardrails. The same contract as `assistant ask --json`.")
    key = Depends(api_key_check(settings))
    _error_handlers(app)

    @app.post("/v1/ask", response_model=Answer, dependencies=[key],
              responses={422: {"description": "bad input (one line)"}, 503: {"description": "index not ready"}})
    def ask(body: AskRequest) -> Response:
        answer = chain.ask(body.question, body.history, body.business)
        log_answer(answer, body.history)
        return Response(json_text(answer), media_type=JSON)

    @app.post("/v1/feedback", status_code=201, response_model=FeedbackCreated, dependencies=[key])
    def feedback(body: FeedbackRequest) -> FeedbackCreated:
        # The same limits as a question's: the history and question are stored and shown to trainers.
        validate(body.answer.question, body.history, settings.max_question_chars, settings.max_history_turns)
        return FeedbackCreated(id=the_stores().feedback.record(body.answer, list(body.history), body.rating,
                                                               body.comment))

    @app.get("/v1/pages/{slug}", response_model=PageOut, dependencies=[key],
             responses={404: {"description": "no such page"}})
    def page(slug: str) -> PageOut:
        if not SLUG.match(slug):
            raise InvalidSlug(f"page slug {slug[:60]!r} is not a slug (lower-case letters, digits, dashes)")
        pages, _ = load_pages(settings.corpus_dir)  # looked up by slug, never opened by a path built from it
        found = next((p for p in pages if p.slug == slug), None)
        if found is None:
            raise PageNotFound(f"no page {slug!r}")
        return PageOut(slug=found.slug, title=found.title, business=found.business, updated=found.updated,
                       source_url=found.source_url,
                       sections=[PageSection(label=s.label, anchor=s.anchor, text=s.body) for s in sections(found)])

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    def readyz(request: Request) -> JSONResponse:
        if warming and warming[0].is_alive():
            return JSONResponse(Readiness(ready=False, detail="warming up").model_dump(), status_code=503)
        try:
            chain.warm_up()  # loads the index and model once; re-checks the rules when the index changed
        except AssistantError as exc:
            # Probes carry no key; what is wrong (a path, a server address) is told to callers with one.
            detail = str(exc) if _authorized(settings, request) else "not ready"
            return JSONResponse(Readiness(ready=False, detail=detail).model_dump(), status_code=503)
        return JSONResponse(Readiness(ready=True, generation=chain.search.snapshot.generation).model_dump())

    return app


# -- errors: one line each -----------------------------------------------------------------------------
class PageNotFound(AssistantError):
    pass


class InvalidSlug(AssistantError):
    pass


def _error_handlers(app: FastAPI) -> None:
    def one_line(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handler(request: Request, exc: Exception) -> Response:
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return handler

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": validation_line(exc.errors())}, status_code=422)

    async def unauthorized(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "missing or wrong API key (send it as X-API-Key or a Bearer token)"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Unauthorized, unauthorized)
    app.add_exception_handler(InvalidQuestion, one_line(422))
    app.add_exception_handler(InvalidFeedback, one_line(422))
    app.add_exception_handler(InvalidSlug, one_line(422))
    app.add_exception_handler(PageNotFound, one_line(404))
    app.add_exception_handler(IndexNotBuilt, one_line(503))
    app.add_exception_handler(IndexUnavailable, one_line(503))
    # Everything else in the tree (a bad setting, a rule whose quote left the index, another model's
    # index) is the operator's to fix, and the service can't answer until then.
    app.add_exception_handler(AssistantError, one_line(503))


def validation_line(errors: Any) -> str:
    """FastAPI's validation error list as one line: where, and what is wrong."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return f"the body is not JSON ({first.get('ctx', {}).get('error', 'decode error')})"
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


# -- the key ---------------------------------------------------------------------------------------------
_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the ASSISTANT_API_KEY setting")
_bearer = HTTPBearer(auto_error=False, description="the ASSISTANT_API_KEY setting as a Bearer token")


def _key_matches(settings: Settings, given: str | None) -> bool:
    expected = settings.api_key.get_secret_value()
    # compare_digest takes the same time wherever the strings differ: no guessing the key byte by byte.
    return not expected or (given is not None and hmac.compare_digest(given.encode(), expected.encode()))


def _given_key(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _authorized(settings: Settings, request: Request) -> bool:
    return _key_matches(settings, _given_key(request))


def api_key_check(settings: Settings) -> Callable[..., None]:
    def check(request: Request, header: Annotated[str | None, Depends(_key_header)] = None,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None) -> None:
        # The two security schemes document the headers in the OpenAPI schema; the check reads them itself.
        if not _authorized(settings, request):
            raise Unauthorized()
    return check


class Unauthorized(Exception):
    pass
